using System.Net.Sockets;
using StreamJsonRpc;
using Vio4wd.Core.ControlApi;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Serves <see cref="IControlApi"/> as JSON-RPC on a unix socket (mode 0660: owner and group
/// only; nothing listens on TCP).
/// </summary>
internal sealed class ControlServer(string path, IControlApi api, Action<string> log)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            File.Delete(path); // a stale socket: the PID lock says no other daemon owns it
        }

        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        listener.Listen(16);
        log($"Control API on {path}");
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                _ = ServeAsync(client);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            using var rpc = JsonRpc.Attach(stream, api);
            await rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or RemoteRpcException)
        {
            // A client that went away: nothing to do.
        }
    }
}

/// <summary>The control API over the reconciler's statuses and the dataplane's live counters.</summary>
internal sealed class ControlApiService(RelayStatusStore statuses, IDataplane dataplane) : IControlApi
{
    public async Task<IReadOnlyList<RelayView>> StatusAsync()
    {
        var views = new List<RelayView>();
        foreach (RelayStatus status in statuses.All())
        {
            var live = await dataplane.GetRelayAsync(status.Id).ConfigureAwait(false);
            views.Add(RelayView.Of(status with { Live = live }));
        }

        return views;
    }

    public Task<string> VersionAsync() =>
        Task.FromResult($"{typeof(ControlApiService).Assembly.GetName().Version} ({DpdkBuild.Version})");
}
