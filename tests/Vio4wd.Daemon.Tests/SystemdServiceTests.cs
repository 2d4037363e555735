using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The daemon as systemd runs it (Type=notify, --nodaemon=log_syslog): READY=1 only once it
/// forwards, STOPPING=1 on SIGTERM, and syslog lines with the original's identity, facility
/// LOCAL0 and 0-7 levels. The test plays systemd's notify socket and journald's /dev/log.
/// </summary>
[NonParallelizable]
public partial class SystemdServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Ready_is_notified_once_forwarding_and_logs_go_to_syslog_filtered_by_level()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-systemd-{Environment.ProcessId}";
        using Socket notify = Datagrams(dir.File("notify.sock"));
        using Socket syslog = Datagrams(dir.File("log.sock"));
        var syslogLines = new List<string>();
        using var stop = new CancellationTokenSource();
        Task collecting = CollectAsync(syslog, syslogLines, stop.Token);
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(
                new Dictionary<string, string> { ["NOTIFY_SOCKET"] = dir.File("notify.sock"), ["VIO4WD_SYSLOG_SOCKET"] = dir.File("log.sock") },
                "-C", "1", "--nodaemon=log_syslog", "--loglevel", "5", "-V", dir.Path, "-P", "net_null0=0",
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");

            string ready = await ReceiveAsync(notify, "READY=1");
            bool socketAtReady = File.Exists(DaemonProcess.ControlSocket);
            var relay = await Vioctl.RelayAsync(0);

            daemon.Signal("TERM");
            string stopping = await ReceiveAsync(notify, "STOPPING=1");
            int exit = await daemon.WaitForExitAsync(Patience);
            await Task.Delay(200);
            await stop.CancelAsync();
            await collecting;

            string[] lines;
            lock (syslogLines)
            {
                lines = [.. syslogLines];
            }

            Assert.Multiple(() =>
            {
                Assert.That(socketAtReady, Is.True, "the control socket is up when systemd hears READY=1");
                Assert.That(Vioctl.Condition(relay, "DeviceReady"), Is.EqualTo("True"), "the configured relay had its first pass");
                Assert.That(ready, Does.Contain("READY=1"));
                Assert.That(stopping, Does.Contain("STOPPING=1"));
                Assert.That(exit, Is.Zero, daemon.StandardError);
                Assert.That(lines, Has.Some.Match(SyslogLine(daemon.Id, 133, "Starting virtio-forwarder")), "NOTICE (5) on LOCAL0 (16): <133>");
                Assert.That(lines, Has.Some.Match(SyslogLine(daemon.Id, 133, "Stopping virtio-forwarder")));
                Assert.That(lines, Has.None.StartsWith("<134>"), "INFO (6) is above --loglevel 5");
                Assert.That(daemon.StandardOutput, Does.Not.Contain("Starting virtio-forwarder"), "syslog mode writes nothing of its own to stdout");
            });
        }
        finally
        {
            await stop.CancelAsync();
            DpdkRuntime.Remove(prefix);
        }
    }

    private static string SyslogLine(int pid, int priority, string message) =>
        $@"^<{priority}>[A-Z][a-z]{{2}} [ \d]\d \d\d:\d\d:\d\d virtio-forwarder\[{pid}\]: {Regex.Escape(message)}";

    private static Socket Datagrams(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>Receives datagrams until one contains <paramref name="text"/>.</summary>
    private static async Task<string> ReceiveAsync(Socket socket, string text)
    {
        using var timeout = new CancellationTokenSource(Patience);
        byte[] buffer = new byte[4096];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            string datagram = Encoding.UTF8.GetString(buffer, 0, n);
            if (datagram.Contains(text, StringComparison.Ordinal))
            {
                return datagram;
            }
        }
    }

    private static async Task CollectAsync(Socket socket, List<string> lines, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[65536];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                lock (lines)
                {
                    lines.Add(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
