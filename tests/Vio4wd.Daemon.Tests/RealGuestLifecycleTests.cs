using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// A real Linux guest (tools/qemu-guest.sh) through the daemon to a tap VF in a namespace of its
/// own: multiqueue set with <c>ethtool -L</c> with traffic on every queue, ten reboots on one
/// relay, and the daemon as the vhost-user client of a guest that owns the socket.
/// </summary>
[NonParallelizable]
[Category("Qemu")] // real guests under QEMU (TCG): make test TEST_FILTER='TestCategory!=Qemu' leaves them out
public partial class RealGuestLifecycleTests() : DaemonTest("guestlife")
{
    private static new readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly List<string> _namespaces = [];

    [OneTimeSetUp]
    public static Task BuildGuestImage() => QemuGuest.BuildAsync();

    [TearDown]
    public async Task RemoveNamespacesAndRuntimeFolders()
    {
        foreach (string ns in _namespaces)
        {
            await Command.RunAsync(Patience, "ip", "netns", "del", ns);
        }

        Prefixes.RemoveAll();
    }

    /// <summary>The daemon with a tap VF on relay 0, and the tap moved into a namespace as 10.6x.0.1.</summary>
    private async Task<(DaemonProcess Daemon, string Namespace)> StartAsync(string name, string subnet, params string[] extra)
    {
        string tag = (Environment.ProcessId % 10000).ToString(CultureInfo.InvariantCulture);
        string ns = $"vgl{name[0]}{tag}", tap = $"vgl{name[0]}{tag}v";
        DaemonProcess daemon = DaemonProcess.Start(["-C", "1", "--nodaemon", "-P", $"net_tap0,iface={tap}=0", .. extra,
            "--eal-args", $"--no-huge -m 1024 --no-pci --file-prefix={Prefixes.Next(name)} --log-level=lib.vhost.config:warning"]);
        await daemon.WaitForOutputAsync("relay 0: device attached", Patience);
        _namespaces.Add(ns);
        foreach (string[] step in new[]
        {
            new[] { "netns", "add", ns }, ["link", "set", tap, "netns", ns], ["-n", ns, "addr", "add", $"{subnet}.1/24", "dev", tap],
            ["-n", ns, "link", "set", tap, "up"],
        })
        {
            (int code, string stdout, string stderr) = await Command.RunAsync(Patience, "ip", step);
            Assert.That(code, Is.Zero, stdout + stderr);
        }

        return (daemon, ns);
    }

    private static Task<(int Code, string Console)> GuestAsync(params string[] args) =>
        QemuGuest.RunAsync(TimeSpan.FromSeconds(300), ["--timeout", "240", "--taskset", "0", .. args]);

    [Test]
    public async Task A_guest_with_four_queue_pairs_set_by_ethtool_carries_traffic_on_every_queue_both_ways()
    {
        using var dir = new TempDirectory();
        (DaemonProcess daemon, string ns) = await StartAsync("mq", "10.61.0", "-V", dir.Path);
        using (daemon)
        {
            // The host's side sends UDP to 64 ports of the guest for as long as it runs: the relay
            // spreads those flows over the guest's queues by their hash.
            using Process flows = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns, "/usr/bin/python3", "-c", """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                while True:
                    for port in range(7000, 7064):
                        try: s.sendto(b"x" * 64, ("10.61.0.2", port))
                        except OSError: pass
                    time.sleep(0.02)
                """]))!;
            try
            {
                // The guest's side: 32 TCP connection attempts (the host refuses them), each from its
                // own source port and so its own flow, which the guest hashes onto its queues.
                (int code, string console) = await GuestAsync("--sock", dir.File("virtio-forwarder0.sock"), "--ip", "10.61.0.2/24", "--queues", "4",
                    "--cmd", TraceQueues,
                    "--cmd", "ping -c 2 -W 5 10.61.0.1",
                    "--cmd", "ethtool -l eth0 | tail -4 | grep Combined",
                    "--cmd", "for i in $(seq 32); do nc -w 1 10.61.0.1 $((6000 + i)) </dev/null; done; sleep 1",
                    "--cmd", QueueTrace);
                Dictionary<string, long> queues = QueueCounter().Matches(console).ToDictionary(
                    m => $"{m.Groups[1].Value}_queue_{m.Groups[2].Value}", m => long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
                TestContext.Out.WriteLine(string.Join(", ", queues.Select(q => $"{q.Key} {q.Value}")));
                Assert.Multiple(() =>
                {
                    Assert.That(code, Is.Zero, console);
                    Assert.That(console, Does.Contain("2 received"), "ping");
                    Assert.That(console, Does.Match(@"Combined:\s+4"), "ethtool -L set four queue pairs");
                    foreach (string dir in new[] { "rx", "tx" })
                    {
                        for (int q = 0; q < 4; q++)
                        {
                            Assert.That(queues.GetValueOrDefault($"{dir}_queue_{q}"), Is.GreaterThan(0), $"{dir} queue {q} carried packets\n{console}");
                        }
                    }

                    Assert.That(daemon.StandardOutput, Does.Contain("relay 0: VM connected"));
                });
            }
            finally
            {
                flows.Kill();
                await flows.WaitForExitAsync();
            }

            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
    }

    [Test]
    public async Task A_guest_rebooted_ten_times_on_one_relay_pings_every_time_and_leaks_nothing()
    {
        using var dir = new TempDirectory();
        int port = PrometheusServer.FreePort();
        (DaemonProcess daemon, _) = await StartAsync("reboot", "10.62.0", "-V", dir.Path, "--metrics-address", port.ToString(CultureInfo.InvariantCulture));
        using (daemon)
        {
            var inUse = new List<long>();
            for (int boot = 0; boot < 10; boot++)
            {
                // Queue pairs change from boot to boot (1, 2, 4), as a guest's ethtool -L would.
                int queues = new[] { 1, 2, 4 }[boot % 3];
                (int code, string console) = await GuestAsync("--sock", dir.File("virtio-forwarder0.sock"), "--ip", "10.62.0.2/24",
                    "--queues", queues.ToString(CultureInfo.InvariantCulture), "--quiet", "--cmd", "ping -c 1 -W 5 10.62.0.1");
                Assert.That(code, Is.Zero, $"boot {boot + 1} ({queues} queue pairs): the guest's ping failed\n{console}");
                await Eventually.UntilAsync(() => Task.FromResult(Count(daemon.StandardOutput, "relay 0: VM disconnected") == boot + 1),
                    $"the relay to see boot {boot + 1}'s guest go", Patience);
                inUse.Add(await MbufsInUseAsync(port));
            }

            Assert.Multiple(async () =>
            {
                Assert.That(Count(daemon.StandardOutput, "relay 0: VM connected"), Is.EqualTo(10));
                Assert.That(Vioctl.Condition(await Vioctl.RelayAsync(0), "DeviceReady"), Is.EqualTo("True"));
                Assert.That(inUse[^1], Is.LessThanOrEqualTo(inUse[0] + 64), $"mbufs in use after each guest left: {string.Join(", ", inUse)}");
                Assert.That(daemon.StandardError, Does.Not.Contain("ERR"));
            });
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
    }

    [Test]
    public async Task In_client_mode_the_daemon_connects_to_a_guest_that_owns_the_socket()
    {
        using var dir = new TempDirectory();
        string socket = dir.File("virtio-forwarder0.sock");
        // The guest (QEMU as the server) comes first and waits for its link; then the daemon.
        Task<(int Code, string Console)> guest = GuestAsync("--server", "--sock", socket, "--ip", "10.63.0.2/24", "--carrier-wait", "60",
            "--cmd", "ping -c 3 -W 5 10.63.0.1");
        await Eventually.UntilAsync(() => Task.FromResult(File.Exists(socket) || guest.IsCompleted), "the guest's socket", Patience);
        (DaemonProcess daemon, _) = await StartAsync("client", "10.63.0", "-V", dir.Path, "--vhostuser-client");
        using (daemon)
        {
            (int code, string console) = await guest;
            Assert.Multiple(() =>
            {
                Assert.That(code, Is.Zero, console);
                Assert.That(console, Does.Contain("3 received"));
                Assert.That(daemon.StandardOutput, Does.Contain("relay 0: VM connected"));
            });
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
    }

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    private static async Task<long> MbufsInUseAsync(int port)
    {
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Match m = MbufsInUse().Match(metrics);
        Assert.That(m.Success, Is.True, metrics);
        return (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    // Per-queue packet counts from the guest kernel's own tracepoints, which carry each skb's queue
    // (an rx skb's queue_mapping is its queue + 1). Not ethtool -S: virtio_net's per-queue packet
    // counters left it in Linux 6.10 (Debian 13's 6.12 has them only through netlink qstats).
    private const string TraceQueues = """
        t=/sys/kernel/tracing; mount -t tracefs nodev $t
        for e in napi_gro_receive_entry netif_receive_skb_entry net_dev_start_xmit; do echo 1 > $t/events/net/$e/enable; done
        echo 4096 > $t/buffer_size_kb; echo 1 > $t/tracing_on
        """;

    private const string QueueTrace = """
        t=/sys/kernel/tracing; echo 0 > $t/tracing_on
        awk '{ match($0, /queue_mapping=[0-9]+/); q = substr($0, RSTART + 14, RLENGTH - 14) + 0 }
             /(napi_gro_receive_entry|netif_receive_skb_entry): dev=eth0 / { rx[q - 1]++ }
             /net_dev_start_xmit: dev=eth0 / { tx[q]++ }
             END { for (q in rx) print "rx_queue_" q "_packets: " rx[q]; for (q in tx) print "tx_queue_" q "_packets: " tx[q] }' $t/trace
        """;

    [GeneratedRegex(@"\b(rx|tx)_queue_(\d+)_packets: (\d+)")]
    private static partial Regex QueueCounter();

    [GeneratedRegex(@"^vio4wd_relay_mbufs_in_use\{relay=""0""\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex MbufsInUse();
}
