using System.Text.Json;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The daemon's parts run together and under supervision: every configured source at once,
/// faults injected into them (VIO4WD_TEST_FAULTS) restarted and shown, a dataplane failure ending
/// the process non-zero, and every stop, after a fault too, leaving nothing behind.
/// </summary>
[NonParallelizable]
public class DaemonPartsTests() : DaemonTest("parts")
{
    private static string[] Flag(string port, string device, int relay) =>
        ["--", "set", "interface", port, "external_ids:virtio_forwarder=1", $"external_ids:virtio_forwarder_dev={device}", $"external_ids:virtio_forwarder_relay={relay}"];

    // What a stopped daemon must not leave behind, whatever stopped it.
    private static void AssertLeftNothing(string prefix, TempDirectory sockets)
    {
        Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False, "control socket removed");
        Assert.That(File.Exists(Path.Combine(DaemonProcess.PidDirectory, "virtio-forwarder.pid")), Is.False, "PID file removed");
        Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix)), Is.False, "DPDK runtime folder removed");
        Assert.That(Directory.GetFileSystemEntries(sockets.Path), Is.Empty, "vhost-user sockets removed");
    }

    private static async Task<PartView> PartAsync(ControlClient control, string name) =>
        (await control.Api.DaemonAsync()).Parts.Single(p => p.Name == name);

    [Test]
    public async Task With_the_shipped_config_ovs_vsctl_relays_a_port_while_zmq_port_control_answers()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var dir = new TempDirectory();
        string run = dir.File("run");
        // The shipped file with its paths pointed into the test's directory; this machine's CPUs
        // (the file names CPUs 1 and 2) and no hugepages for the EAL.
        var changes = new Dictionary<string, string>
        {
            ["VIRTIOFWD_CPU_MASK"] = "1",
            ["VIRTIOFWD_ZMQ_PORT_CONTROL_EP"] = $"ipc://{run}/port_control",
            ["VIRTIOFWD_ZMQ_STATS_EP"] = $"ipc://{run}/stats",
            ["VIRTIOFWD_ZMQ_CORE_SCHED_EP"] = $"ipc://{run}/core_sched",
            ["VIRTIOFWD_OVSDB_SOCK_PATH"] = ovsdb.Socket,
            ["VIRTIOFWD_ALLOW_RUNTIME_DEVARGS"] = "y",
            ["VIRTIOFWD_SOCKET_DIR"] = dir.File("sockets"),
            ["VIRTIOFWD_PID_DIR"] = DaemonProcess.PidDirectory,
            ["VIRTIOFWD_CONTROL_SOCK"] = DaemonProcess.ControlSocket,
            ["VIRTIOFWD_EAL_ARGS"] = $"\"--no-huge -m 512 --no-pci --file-prefix={Prefix("shipped")}\"",
        };
        string[] shipped = await File.ReadAllLinesAsync(Path.Combine(DaemonProcess.RepoRoot, "config", "virtioforwarder"));
        string config = dir.File("virtioforwarder");
        await File.WriteAllLinesAsync(config, shipped.Select(line =>
            changes.Keys.FirstOrDefault(k => line.StartsWith(k + "=", StringComparison.Ordinal)) is { } key ? $"{key}={changes[key]}" : line));
        Assert.That(shipped.Count(l => changes.Keys.Any(k => l.StartsWith(k + "=", StringComparison.Ordinal))), Is.EqualTo(changes.Count), "every changed setting is in the shipped file");

        await ovsdb.VsctlAsync("add-br", "br-virtio");
        using DaemonProcess daemon = DaemonProcess.Start("--config", config, "--nodaemon");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();

        // The user guide's command: the relay comes up, in client mode as the file says.
        await ovsdb.VsctlAsync(["add-port", "br-virtio", "eth100", .. Flag("eth100", "net_null0", 3)]);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3)) is { Source: "ovsdb", Device: "net_null0", Mode: "client" },
            "relay 3 from OVSDB", Patience);
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("sockets/virtio-forwarder3.sock")},server=1"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Ready == true
            && await ovsdb.VsctlAsync("get", "interface", "eth100", "external_ids:virtio_forwarder_state") == "ready", "relay 3 ready, and its row says so", Patience);

        // ZMQ port control answers at the same time, about the OVSDB relay too.
        (int code, string answer, string err) = await Vioctl.RunAsync("port", "query_pci", "--vhost-path", dir.File("sockets/virtio-forwarder3.sock"), "--zmq-ep", $"ipc://{run}/port_control");
        (int missingCode, string missing, _) = await Vioctl.RunAsync("port", "query_pci", "--vhost-path", "/nowhere.sock", "--zmq-ep", $"ipc://{run}/port_control");
        DaemonView parts = await control.Api.DaemonAsync();
        Assert.Multiple(() =>
        {
            Assert.That((code, answer.Trim()), Is.EqualTo((0, "net_null0")), err);
            Assert.That(missingCode, Is.EqualTo(1));
            Assert.That(missing, Does.Contain("error_code: 2"));
            Assert.That(parts.Parts.Select(p => (p.Name, p.State)), Is.SupersetOf(new[]
            {
                ("static", "Running"), ("ovsdb", "Connected"), ("zmq", "Serving"), ("zmq stats", "Serving"), ("zmq core scheduler", "Serving"),
                ("control socket", "Serving"), ("reconciler", "Running"), ("events", "Running"),
            }));
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task A_source_failing_on_its_first_and_third_snapshot_is_restarted_shown_and_its_relays_converge()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync(["add-br", "br0", "--", "add-port", "br0", "eth100", .. Flag("eth100", "net_null0", 3)]);
        string prefix = Prefix("faults");
        using DaemonProcess daemon = DaemonProcess.Start(
            new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_FAULTS"] = "ovsdb.publish:1,3" },
            "-C", "1", "--nodaemon", "-V", sockets.Path, "-O", ovsdb.Endpoint, "--allow-runtime-devargs", "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();

        // The first snapshot faults; the restart's snapshot brings relay 3.
        await Eventually.HoldsAsync(async () => ((await control.RelayAsync(3))?.Device, await PartAsync(control, "ovsdb")),
            seen => seen.Item1 == "net_null0" && seen.Item2 is { State: "Connected", Restarts: >= 1 },
            Patience, "relay 3 and the OVSDB source connected after a restart", () => daemon.StandardOutput);

        // The third snapshot faults too: it is this change, or the source's own write-back of
        // relay 3's state to its row if that came first. After the restart the change is there.
        await ovsdb.VsctlAsync(["add-port", "br0", "eth101", .. Flag("eth101", "net_null1", 4)]);
        await Eventually.HoldsAsync(async () => ((await control.RelayAsync(4))?.Device, await PartAsync(control, "ovsdb")),
            seen => seen.Item1 == "net_null1" && seen.Item2 is { State: "Connected", Restarts: >= 2 },
            Patience, "relay 4 and the OVSDB source connected after a second restart", () => daemon.StandardOutput);
        PartView ovsdbPart = await PartAsync(control, "ovsdb");
        RelayView? three = await control.RelayAsync(3);
        (int code, string table, _) = await Vioctl.RunAsync("status");
        Assert.Multiple(() =>
        {
            Assert.That(ovsdbPart.Restarts, Is.EqualTo(2), daemon.StandardOutput);
            Assert.That(ovsdbPart.LastError, Is.EqualTo("InvalidOperationException: injected fault: snapshot 3 of ovsdb"));
            Assert.That(daemon.StandardOutput, Does.Contain("ovsdb failed: InvalidOperationException: injected fault: snapshot 1 of ovsdb; restarting it in 0.5 s"));
            Assert.That(daemon.StandardOutput, Does.Contain("ovsdb failed: InvalidOperationException: injected fault: snapshot 3 of ovsdb; restarting it in 1.0 s"));
            Assert.That(three?.Device, Is.EqualTo("net_null0"), "relay 3 stayed through the restarts");
            Assert.That(code, Is.Zero);
            Assert.That(table, Does.Match(@"ovsdb\s+source\s+Connected\s+\S+\s+2\s"), "vio4wdctl status shows the part, its state and its restarts");
        });

        // A stop after faults is a clean stop.
        daemon.Signal("TERM");
        Assert.Multiple(async () =>
        {
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
            AssertLeftNothing(prefix, sockets);
        });
    }

    [Test]
    public async Task A_failing_dataplane_ends_the_daemon_with_a_non_zero_exit_after_a_clean_stop()
    {
        using var sockets = new TempDirectory();
        string prefix = Prefix("fatal");
        using DaemonProcess daemon = DaemonProcess.Start(
            new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_FAULTS"] = "events:1" },
            "-C", "1", "--nodaemon", "-V", sockets.Path, "-P", "net_null0=0", "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
        int exit = await daemon.WaitForExitAsync(Patience);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(70), "EX_SOFTWARE, so systemd (Restart=on-failure) or the kubelet restarts it");
            Assert.That(daemon.StandardOutput, Does.Contain("events: the dataplane failed: injected fault: run 1 of events"));
            AssertLeftNothing(prefix, sockets);
        });
    }

    [Test]
    public async Task Without_an_ovsdb_path_it_looks_in_the_usual_places_says_what_is_missing_and_is_ready_meanwhile()
    {
        using var sockets = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix("paths")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        JsonElement parts = await Vioctl.JsonAsync("daemon");
        JsonElement ovsdb = parts.GetProperty("parts").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "ovsdb");
        const string original = "/usr/local/var/run/openvswitch/db.sock";
        const string standard = "/var/run/openvswitch/db.sock";
        string expected = File.Exists(original) ? original : File.Exists(standard) ? standard : original;
        Assert.Multiple(() =>
        {
            Assert.That(parts.GetProperty("ready").GetBoolean(), Is.True);
            Assert.That(daemon.StandardOutput, Does.Contain($"OVSDB: using unix:{expected} (of unix:{original}, unix:{standard})"));
            if (!File.Exists(original) && !File.Exists(standard))
            {
                Assert.That(ovsdb.GetProperty("state").GetString(), Is.EqualTo("Connecting"), "no OVSDB here: it keeps trying, and the daemon is ready meanwhile");
                Assert.That(ovsdb.GetProperty("lastError").GetString(), Does.Contain($"unix:{original}: no such socket"));
                Assert.That(daemon.StandardOutput, Does.Not.Contain("Cannot assign requested address"));
            }
        });
    }

    [Test]
    public async Task A_zmq_endpoint_that_would_serve_plain_tcp_is_a_configuration_error_at_start_not_a_fault_to_retry()
    {
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "--zmq-stats-ep=tcp://0.0.0.0:5599",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("plain")}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain("virtio-forwarder: ZMQ stats service: tcp://0.0.0.0:5599 would listen on TCP without encryption"));
            Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False, "nothing was started");
        });
    }
}
