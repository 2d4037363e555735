using System.Net.Sockets;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts;

namespace Vio4wd.Ctl;

/// <summary>A connection to the daemon's control socket.</summary>
internal sealed class ControlClient : IDisposable
{
    public const string DefaultSocket = DefaultEndpoints.ControlSocket;
    public const string SocketVariable = "VIO4WD_CONTROL_SOCK";

    private readonly JsonRpcConnection _rpc;

    private ControlClient(JsonRpcConnection rpc)
    {
        _rpc = rpc;
        Api = new ControlApiClient(rpc);
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
            // Not allowed in is this user's problem, not a daemon that is down.
            throw e.SocketErrorCode == SocketError.AccessDenied
                ? new CtlException($"cannot reach the daemon at {path}: {why}")
                : new DaemonUnreachableException($"cannot reach the daemon at {path}: {why}");
        }

        return new ControlClient(new JsonRpcConnection(new NetworkStream(connection, ownsSocket: true)));
    }

    public void Dispose() => _rpc.Dispose();
}

/// <summary>A failure to report on stderr with exit status 1.</summary>
internal class CtlException(string message) : Exception(message);

/// <summary>
/// The daemon cannot be asked at all (no socket, nobody listening, connection lost): exit status
/// 3, as an LSB status action says "not running", so scripts tell it from a failed request.
/// </summary>
internal sealed class DaemonUnreachableException(string message) : CtlException(message)
{
    public const int ExitCode = 3;
}
