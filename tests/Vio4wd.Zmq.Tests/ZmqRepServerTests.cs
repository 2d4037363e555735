using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vio4wd.Testing;
using Vio4wd.Zmq.Tests.Support;

namespace Vio4wd.Zmq.Tests;

public class ZmqRepServerTests
{
    private static ZmqRepServer Start(string endpoint, Func<ZmqRequest, Task<byte[]>> handler, Action<string>? secureSocketFile = null, ZmqSecurity? security = null) =>
        ZmqRepServer.Start("test", new ZmqEndpoint(endpoint), secureSocketFile ?? (_ => { }), security ?? ZmqSecurity.IpcOnly, 4 * 1024 * 1024, handler, NullLogger.Instance);

    private static Task<byte[]> Echo(ZmqRequest r) => Task.FromResult(r.Bytes);

    [Test]
    public void Tcp_without_curve_is_refused_unless_loopback_is_explicitly_allowed()
    {
        var open = Assert.Throws<ZmqException>(() => Start("tcp://0.0.0.0:0", Echo, security: new ZmqSecurity(null, AllowPlainLoopback: true)));
        var notAllowed = Assert.Throws<ZmqException>(() => Start("tcp://127.0.0.1:0", Echo));
        Assert.Multiple(() =>
        {
            Assert.That(open!.Message, Does.Contain("would listen on TCP without encryption"));
            Assert.That(notAllowed!.Message, Does.Contain("VIRTIOFWD_ZMQ_ALLOW_PLAIN_LOOPBACK=y"));
            Assert.That(ZmqSecurity.ParseKey("short", out string problem), Is.Null);
            Assert.That(problem, Does.Contain("40 Z85 characters"));
        });
    }

    [Test]
    public async Task Plain_loopback_when_allowed_and_curve_otherwise_serve_pyzmq_clients()
    {
        int plainPort = FreePort(), curvePort = FreePort();
        (string serverPublic, string serverSecret) = PyZmq.CurveKeyPair();
        using ZmqRepServer plain = Start($"tcp://127.0.0.1:{plainPort}", Echo, security: new ZmqSecurity(null, AllowPlainLoopback: true));
        using ZmqRepServer curve = Start($"tcp://127.0.0.1:{curvePort}", Echo, security: new ZmqSecurity(serverSecret, AllowPlainLoopback: false));
        byte[]? viaPlain = await PyZmq.RequestAsync($"tcp://127.0.0.1:{plainPort}", [1, 2, 3]);
        byte[]? viaCurve = await PyZmq.RequestAsync($"tcp://127.0.0.1:{curvePort}", serverPublic, [4, 5]);
        byte[]? plainToCurve = await PyZmq.RequestAsync($"tcp://127.0.0.1:{curvePort}", [6]);
        Assert.Multiple(() =>
        {
            Assert.That(viaPlain, Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(viaCurve, Is.EqualTo(new byte[] { 4, 5 }), "a client that knows the server's public key");
            Assert.That(plainToCurve, Is.Null, "a client without CURVE gets nothing");
        });
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Test]
    public async Task Answers_each_request_over_an_ipc_socket_file_that_only_owner_and_group_can_use()
    {
        using var dir = new TempDirectory();
        string endpoint = $"ipc://{dir.File("run/virtio-forwarder/stats")}";
        var secured = new List<string>();
        void Secure(string path)
        {
            secured.Add(path);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        }

        using (ZmqRepServer server = Start(endpoint, r => Task.FromResult(Encoding.ASCII.GetBytes($"{r.Frames}:{Encoding.ASCII.GetString(r.Bytes)}")), Secure))
        {
            byte[]? one = await PyZmq.RequestAsync(endpoint, Encoding.ASCII.GetBytes("hello"));
            byte[]? two = await PyZmq.RequestAsync(endpoint, Encoding.ASCII.GetBytes("ab"), Encoding.ASCII.GetBytes("cd"));
            byte[]? empty = await PyZmq.RequestAsync(endpoint, [[]]);
            var file = new FileInfo(dir.File("run/virtio-forwarder/stats"));
            Assert.Multiple(() =>
            {
                Assert.That(Encoding.ASCII.GetString(one!), Is.EqualTo("1:hello"));
                Assert.That(Encoding.ASCII.GetString(two!), Is.EqualTo("2:abcd"), "a multi-frame request is seen as such");
                Assert.That(Encoding.ASCII.GetString(empty!), Is.EqualTo("1:"));
                Assert.That(file.UnixFileMode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
                Assert.That(secured, Is.EqualTo(new[] { file.FullName }), "the socket file is secured once, after bind (owner and group are the daemon's: SocketPermissions)");
            });
        }

        Assert.That(File.Exists(dir.File("run/virtio-forwarder/stats")), Is.False, "the socket file goes with the server");
    }

    [Test]
    public async Task A_failing_handler_still_answers_and_the_server_goes_on_and_a_1_MB_request_is_received()
    {
        using var dir = new TempDirectory();
        string endpoint = $"ipc://{dir.File("s")}";
        using ZmqRepServer server = Start(endpoint, r => r.Bytes.Length == 1 ? throw new InvalidOperationException("boom") : Task.FromResult(BitConverter.GetBytes(r.Bytes.Length)));
        byte[]? failed = await PyZmq.RequestAsync(endpoint, [1]);
        byte[]? big = await PyZmq.RequestAsync(endpoint, new byte[1024 * 1024]);
        Assert.Multiple(() =>
        {
            Assert.That(failed, Is.Empty);
            Assert.That(BitConverter.ToInt32(big!), Is.EqualTo(1024 * 1024));
        });
    }

    [Test]
    public void An_endpoint_that_cannot_be_bound_is_named()
    {
        var error = Assert.Throws<ZmqException>(() => Start("bogus://x", _ => Task.FromResult(Array.Empty<byte>())));
        Assert.That(error!.Message, Does.StartWith("test: cannot bind bogus://x: "));
    }

    [Test]
    public async Task A_multipart_request_is_kept_to_the_size_cap_however_many_frames_it_has()
    {
        using var dir = new TempDirectory();
        string endpoint = $"ipc://{dir.File("capped")}";
        (int Bytes, int Frames) seen = default;
        using (ZmqRepServer server = ZmqRepServer.Start("test", new ZmqEndpoint(endpoint), _ => { }, ZmqSecurity.IpcOnly, 1 << 20, r =>
        {
            seen = (r.Bytes.Length, r.Frames);
            return Task.FromResult(Encoding.ASCII.GetBytes("refused"));
        }, NullLogger.Instance))
        {
            // 24 frames of 1 MB each: each within libzmq's per-frame limit, 24 MB together.
            byte[]? answer = await PyZmq.RequestAsync(endpoint, [.. Enumerable.Range(0, 24).Select(_ => new byte[1 << 20])]);
            Assert.That(Encoding.ASCII.GetString(answer!), Is.EqualTo("refused"));
        }

        Assert.That(seen, Is.EqualTo((1 << 20, 24)), "every frame counted, no more than the cap kept");
    }
}
