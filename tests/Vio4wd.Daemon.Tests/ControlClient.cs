using System.Net.Sockets;
using StreamJsonRpc;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Daemon.Tests;

/// <summary>A long-lived connection to the daemon's control API, for watching it change closely.</summary>
internal sealed class ControlClient : IDisposable
{
    private readonly JsonRpc _rpc;

    private ControlClient(JsonRpc rpc)
    {
        _rpc = rpc;
        Api = rpc.Attach<IControlApi>();
    }

    public IControlApi Api { get; }

    public static async Task<ControlClient> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(DaemonProcess.ControlSocket));
        return new ControlClient(JsonRpc.Attach(new NetworkStream(socket, ownsSocket: true)));
    }

    public async Task<RelayView?> RelayAsync(int id) => (await Api.StatusAsync()).FirstOrDefault(r => r.Id == id);

    public void Dispose() => _rpc.Dispose();
}
