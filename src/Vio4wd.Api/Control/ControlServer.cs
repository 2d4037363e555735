using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.ControlApi;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Api;

namespace Vio4wd.Api.Control;

/// <summary>
/// Serves <see cref="IControlApi"/> as JSON-RPC on a unix socket: mode 0660 with the configured
/// owner and group, so only they can use it; nothing listens on TCP.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly IControlApi _api;
    private readonly object? _hooks;
    private readonly ILogger _logger;

    private ControlServer(Socket listener, string path, IControlApi api, object? hooks, ILogger logger)
    {
        _listener = listener;
        _path = path;
        _api = api;
        _hooks = hooks;
        _logger = logger;
    }

    /// <summary>Binds the socket (replacing a stale one: the PID lock says no other daemon owns it).</summary>
    public static ControlServer Listen(string path, SocketPermissions permissions, IControlApi api, object? hooks, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            permissions.Apply(path);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            File.Delete(path);
            throw;
        }

        logger.ControlListening(path);
        return new ControlServer(listener, path, api, hooks, logger);
    }

    public async Task ServeAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                _ = ServeClientAsync(client);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
    }

    private async Task ServeClientAsync(Socket client)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            using var rpc = new JsonRpc(stream);
            rpc.AddLocalRpcTarget(_api);
            if (_hooks is not null)
            {
                rpc.AddLocalRpcTarget(_hooks);
            }

            rpc.StartListening();
            await rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or RemoteRpcException)
        {
            _logger.ControlClientGone(e.Message);
        }
    }
}
