using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// A real Linux guest (tools/qemu-guest.sh: QEMU, Debian's kernel, its virtio_net driver) on a
/// relay's socket, for what only a real guest negotiates (issue 12, findings 7 and 8).
/// </summary>
[NonParallelizable]
[Category("Qemu")] // real guests under QEMU (TCG): make test TEST_FILTER='TestCategory!=Qemu' leaves them out
public class RealGuestTests() : DaemonTest("realguest")
{
    private static new readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static string Tool => QemuGuest.Tool;

    [OneTimeSetUp]
    public static Task BuildGuestImage() => QemuGuest.BuildAsync();

    private static async Task<(int Code, string Output)> RunAsync(TimeSpan timeout, string program, params string[] args)
    {
        (int code, string stdout, string stderr) = await Command.RunAsync(timeout, program, args);
        return (code, stdout + stderr);
    }

    /// <summary>The VF's tap in a namespace of its own with an address: the host the guest talks to.</summary>
    private static async Task HostSideAsync(string ns, string tap, string address)
    {
        foreach (string[] step in new[]
        {
            new[] { "netns", "add", ns }, ["link", "set", tap, "netns", ns], ["-n", ns, "addr", "add", address, "dev", tap], ["-n", ns, "link", "set", tap, "up"],
        })
        {
            (int code, string stdout, string stderr) = await Command.RunAsync(Patience, "ip", step);
            Assert.That(code, Is.Zero, stdout + stderr);
        }
    }

    /// <summary>Boots the guest on <paramref name="socket"/>; returns the tool's exit code and the console.</summary>
    /// <remarks>33 queue pairs need far more RAM: Debian 13's 6.12 kernel ran out of 1536 MB filling them with receive buffers.</remarks>
    private static Task<(int Code, string Output)> BootAsync(string socket, int queues) =>
        RunAsync(Patience, Tool, "run", "--sock", socket, "--queues", queues.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mem", queues > 8 ? "3072" : "512", "--timeout", "100", "--cmd", "true");

    private static string[] Features(string console) =>
        console.Split('\n').FirstOrDefault(l => l.StartsWith("QG-FEATURES", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..] ?? [];

    [Test]
    public async Task A_real_guest_negotiates_no_offload_it_could_send_to_the_vf_and_one_with_33_queue_pairs_is_refused_once()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0", "-P", "net_null1=1",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix("real")} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);

        (int code, string console) = await BootAsync(dir.File("virtio-forwarder0.sock"), queues: 1);
        string[] features = Features(console);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, console);
            Assert.That(features, Does.Contain("VERSION_1"), "the guest's negotiated features were read");
            Assert.That(features, Has.None.AnyOf("CSUM", "HOST_TSO4", "HOST_TSO6", "HOST_UFO", "HOST_ECN"), string.Join(' ', features));
            Assert.That(daemon.StandardOutput, Does.Contain("relay 0: VM connected"));
        });

        // 33 queue pairs: Debian's kernel enables them after the device runs (no F_STATUS wait).
        (int wide, string wideConsole) = await BootAsync(dir.File("virtio-forwarder1.sock"), queues: 33);
        const string Refusal = "relay 1: refusing VM connection";
        await Eventually.UntilAsync(() => daemon.StandardError.Contains(Refusal, StringComparison.Ordinal), "the refusal", Patience);
        string log = daemon.StandardError;
        Assert.Multiple(async () =>
        {
            Assert.That(wide, Is.Zero, wideConsole);
            Assert.That(log, Does.Contain($"{Refusal} (vid").And.Contain("more than 32 queue pairs"));
            Assert.That(log.Split(Refusal).Length - 1, Is.EqualTo(1), "one line for the connection");
            Assert.That(daemon.StandardOutput, Does.Not.Contain("relay 1: VM connected"), "never served in part");
            Assert.That((await Vioctl.RelayAsync(1)).GetProperty("stats").GetProperty("vmToVf").GetProperty("rxPackets").GetUInt64(), Is.Zero);
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    // The host's end of the transfers, in the VF's namespace: takes exactly a megabyte on 5001 and
    // prints its MD5, then serves a megabyte of its own on 5002 and prints that one's.
    private const string HostEnd = """
        import hashlib, os, socket, sys
        size = 1 << 20
        up = socket.create_server((sys.argv[1], 5001)); down = socket.create_server((sys.argv[1], 5002))
        print("LISTENING", flush=True)
        c, _ = up.accept(); data = b""
        while len(data) < size:
            chunk = c.recv(65536)
            if not chunk: break
            data += chunk
        c.close()
        print("UP", hashlib.md5(data).hexdigest(), len(data), flush=True)
        payload = os.urandom(size)
        c, _ = down.accept(); c.sendall(payload); c.close()
        print("DOWN", hashlib.md5(payload).hexdigest(), flush=True)
        """;

    // Without VIRTIOFWD_TSO the guest takes checksum and segmentation offloads on receive only;
    // with it, the guest also sends partial checksums and 64 KiB TSO frames, which the VF (the tap
    // PMD, in software) segments and checksums: both ways byte-exact, nothing dropped.
    [TestCase(false)]
    [TestCase(true)]
    public async Task A_real_guest_pings_and_moves_a_megabyte_each_way_through_a_tap_vf_intact(bool tso)
    {
        using var dir = new TempDirectory();
        string tag = (Environment.ProcessId % 10000).ToString(System.Globalization.CultureInfo.InvariantCulture) + (tso ? "t" : "");
        string ns = $"vrg{tag}", tap = $"vrg{tag}v";
        var args = new List<string> { "-C", "1", "--nodaemon", "-V", dir.Path, "--dynamic-sockets", "-P", $"net_tap0,iface={tap}=0",
            "--eal-args", $"--no-huge -m 1024 --no-pci --file-prefix={Prefix("transfer")} --log-level=lib.vhost.config:warning" };
        if (tso)
        {
            args.Add("--enable-tso");
        }

        using DaemonProcess daemon = DaemonProcess.Start([.. args]);
        Process? host = null;
        try
        {
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            await HostSideAsync(ns, tap, "10.57.0.1/24");

            var lines = new List<string>();
            host = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns, "/usr/bin/python3", "-c", HostEnd, "10.57.0.1"]) { RedirectStandardOutput = true })!;
            host.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lines) { lines.Add(e.Data); } } };
            host.BeginOutputReadLine();
            string Host() { lock (lines) { return string.Join('\n', lines); } }
            await Eventually.UntilAsync(() => Task.FromResult(Host().Contains("LISTENING", StringComparison.Ordinal)), "the host end", Patience);

            (int code, string console) = await RunAsync(TimeSpan.FromSeconds(300), Tool, "run", "--sock", dir.File("virtio-forwarder0.sock"),
                "--ip", "10.57.0.2/24", "--timeout", "240",
                "--cmd", "ping -c 3 -W 5 10.57.0.1",
                "--cmd", "ethtool -k eth0 | grep -E '^(tx-checksumming|tcp-segmentation-offload):'",
                "--cmd", "dd if=/dev/urandom of=/tmp/up bs=1024 count=1024 2>/dev/null && md5sum /tmp/up",
                "--cmd", "nc 10.57.0.1 5001 < /tmp/up",
                "--cmd", "nc 10.57.0.1 5002 > /tmp/down; md5sum /tmp/down; wc -c < /tmp/down");
            await Eventually.UntilAsync(() => Task.FromResult(Host().Contains("DOWN", StringComparison.Ordinal) || host.HasExited), "the host end to finish", Patience);
            string hostOut = Host();
            string up = System.Text.RegularExpressions.Regex.Match(console, @"([0-9a-f]{32})\s+/tmp/up").Groups[1].Value;
            string down = System.Text.RegularExpressions.Regex.Match(console, @"([0-9a-f]{32})\s+/tmp/down").Groups[1].Value;
            System.Text.Json.JsonElement relay = await Vioctl.RelayAsync(0);
            ulong toVm = relay.GetProperty("stats").GetProperty("vfToVm").GetProperty("txBytes").GetUInt64();
            ulong toVf = relay.GetProperty("stats").GetProperty("vmToVf").GetProperty("txBytes").GetUInt64();
            TestContext.Out.WriteLine($"{console.Split('\n').FirstOrDefault(l => l.StartsWith("QG-FEATURES", StringComparison.Ordinal))}; relay moved {toVf} B to the VF, {toVm} B to the VM");
            Assert.Multiple(() =>
            {
                Assert.That(code, Is.Zero, console);
                Assert.That(console, Does.Contain("3 received"), "ping");
                Assert.That(up, Is.Not.Empty, console);
                Assert.That(hostOut, Does.Contain($"UP {up} {1 << 20}"), "the guest's megabyte reached the host intact");
                Assert.That(down, Is.Not.Empty, console);
                Assert.That(hostOut, Does.Contain($"DOWN {down}"), "the host's megabyte reached the guest intact");
                Assert.That(toVf, Is.GreaterThan((ulong)(1 << 20)), "counted by the relay, VM to VF");
                Assert.That(toVm, Is.GreaterThan((ulong)(1 << 20)), "counted by the relay, VF to VM");
                Assert.That(relay.GetProperty("stats").GetProperty("vmToVf").GetProperty("droppedPackets").GetUInt64(), Is.Zero, "nothing the guest sent was refused");
                if (tso)
                {
                    Assert.That(Features(console), Does.Contain("HOST_TSO4").And.Contain("CSUM").And.Contain("GUEST_TSO4"), "offloads both ways");
                    Assert.That(console, Does.Contain("tcp-segmentation-offload: on").And.Contain("tx-checksumming: on"));
                }
                else
                {
                    Assert.That(Features(console), Does.Contain("GUEST_TSO4").And.Contain("GUEST_CSUM").And.None.EqualTo("HOST_TSO4").And.None.EqualTo("CSUM"), "receive offloads only");
                    Assert.That(console, Does.Contain("tcp-segmentation-offload: off").And.Contain("tx-checksumming: off"));
                }
            });
        }
        finally
        {
            if (host is { HasExited: false })
            {
                host.Kill(entireProcessTree: true);
            }

            host?.Dispose();
            await Command.RunAsync(Patience, "ip", "netns", "del", ns);
        }
    }

    // A frame the VF can never send (here larger than the tap's MTU: the guest was given a 9000-byte
    // MTU) would hold the VM-to-VF direction for ever, as a driver that refuses without saying so
    // in tx_prepare does: the relay drops a packet the VF takes nothing of for 100 ms, counts it,
    // and the guest's other traffic goes on.
    [Test]
    public async Task A_frame_the_vf_refuses_for_good_is_dropped_and_counted_and_the_relay_goes_on()
    {
        using var dir = new TempDirectory();
        string tag = (Environment.ProcessId % 10000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string ns = $"vrs{tag}", tap = $"vrs{tag}v";
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "--dynamic-sockets", "-P", $"net_tap0,iface={tap}=0",
            "--eal-args", $"--no-huge -m 1024 --no-pci --file-prefix={Prefix("stall")} --log-level=lib.vhost.config:warning");
        try
        {
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            await HostSideAsync(ns, tap, "10.58.0.1/24");

            (int code, string console) = await RunAsync(TimeSpan.FromSeconds(300), Tool, "run", "--sock", dir.File("virtio-forwarder0.sock"),
                "--ip", "10.58.0.2/24", "--mtu", "9000", "--timeout", "240",
                "--cmd", "ping -c 1 -W 5 10.58.0.1",
                "--cmd", "ping -c 1 -W 5 -s 8000 10.58.0.1; echo big-ping-done",
                "--cmd", "ping -c 3 -W 5 10.58.0.1");
            System.Text.Json.JsonElement relay = await Vioctl.RelayAsync(0);
            ulong dropped = relay.GetProperty("stats").GetProperty("vmToVf").GetProperty("droppedPackets").GetUInt64();
            Assert.Multiple(() =>
            {
                Assert.That(code, Is.Zero, console);
                Assert.That(console, Does.Contain("big-ping-done"));
                Assert.That(console.Split("big-ping-done")[^1], Does.Contain("3 received"), "the relay goes on after the refused frame");
                Assert.That(dropped, Is.GreaterThan(0UL), "the refused frame is dropped and counted");
            });
        }
        finally
        {
            await Command.RunAsync(Patience, "ip", "netns", "del", ns);
        }
    }
}
