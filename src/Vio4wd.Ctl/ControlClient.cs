using System.Net.Sockets;
using StreamJsonRpc;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts;

namespace Vio4wd.Ctl;

/// <summary>A connection to the daemon's control socket.</summary>
internal sealed class ControlClient : IDisposable
{
    public const string DefaultSocket = DefaultEndpoints.ControlSocket;
    public const string SocketVariable = "VIO4WD_CONTROL_SOCK";

    private readonly JsonRpc _rpc;

    private ControlClient(JsonRpc rpc)
    {
        _rpc = rpc;
        Api = rpc.Attach<IControlApi>();
    }

    public IControlApi Api { get; }

    /// <summary>Connects, or fails with a message that tells the operator what to do.</summary>
    public static async Task<ControlClient> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            connection.Dispose();
            string why = e.SocketErrorCode switch
            {
                SocketError.AccessDenied => "permission denied (run as root or as a member of the socket's group)",
                _ when !File.Exists(path) => $"no such socket (is virtio-forwarder running? --control-sock or {SocketVariable} point elsewhere)",
                SocketError.AddressNotAvailable or SocketError.ConnectionRefused => "nothing is listening there (is virtio-forwarder running?)",
                _ => e.Message,
            };
            throw new CtlException($"cannot reach the daemon at {path}: {why}");
        }

        return new ControlClient(JsonRpc.Attach(new NetworkStream(connection, ownsSocket: true)));
    }

    public void Dispose() => _rpc.Dispose();
}

/// <summary>A failure to report on stderr with exit status 1.</summary>
internal sealed class CtlException(string message) : Exception(message);
