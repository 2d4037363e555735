using Vio4wd.Contracts.ControlApi;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The daemon driven as users drive it, with ovs-vsctl against a real ovsdb-server: VFs are
/// net_null vdevs named in external_ids, the VM stand-in is testpmd with net_virtio_user.
/// </summary>
[NonParallelizable]
public partial class OvsdbPortControlTests() : DaemonTest("ovsdb-port-control")
{
    // About ten times what a change takes here (15-60 ms, up to 200 on a loaded machine): the
    // tight figures are measured by `make bench` (bench/ovsdb_convergence.py), not asserted.
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(2);

    private static string[] Flag(string port, string device, int relay) =>
        ["--", "set", "interface", port, "external_ids:virtio_forwarder=1", $"external_ids:virtio_forwarder_dev={device}", $"external_ids:virtio_forwarder_relay={relay}"];

    private DaemonProcess StartDaemon(OvsdbServer ovsdb, TempDirectory sockets, string name)
    {
        string prefix = Prefix(name);
        return DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "-O", ovsdb.Endpoint, "--allow-runtime-devargs",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
    }

    internal static async Task<string> StateAsync(OvsdbServer ovsdb, string port) =>
        await ovsdb.VsctlAsync("--if-exists", "get", "interface", port, "external_ids:virtio_forwarder_state");

    [Test]
    public async Task Relays_follow_ovs_vsctl_and_each_row_tells_the_same_state_as_vio4wdctl()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync(["add-br", "br0", "--", "add-port", "br0", "eth100", .. Flag("eth100", "net_null0", 3)]);
        await ovsdb.VsctlAsync("add-port", "br0", "eth101");
        using DaemonProcess daemon = StartDaemon(ovsdb, sockets, "ovsdb");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();

        // Flagged before the start: a relay as soon as the daemon says it is up.
        RelayView? three = await control.RelayAsync(3);
        Assert.That((three?.Source, three?.Device), Is.EqualTo(("ovsdb", "net_null0")), "picked up at start");

        await using var vm = Testpmd.Start([$"net_virtio_user0,path={sockets.File("virtio-forwarder3.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Ready == true && await StateAsync(ovsdb, "eth100") == "ready",
            "relay 3 ready, in vio4wdctl and in its row", Patience);
        Assert.That(await ovsdb.VsctlAsync("get", "interface", "eth100", "external_ids:virtio_forwarder_socket", "external_ids:virtio_forwarder_relay_id"),
            Is.EqualTo($"\"{sockets.File("virtio-forwarder3.sock")}\"\n\"3\""));

        var took = new Dictionary<string, TimeSpan>();
        async Task StepAsync(string name, string[] vsctl, int relay, string? device, string port, string? state)
        {
            await ovsdb.VsctlAsync(vsctl);
            took[name] = await Eventually.UntilAsync(async () => (await control.RelayAsync(relay))?.Device == device, $"{name}: relay {relay} device {device ?? "none"}", Patience);
            await Eventually.UntilAsync(async () => await StateAsync(ovsdb, port) == (state ?? string.Empty), $"{name}: {port} state {state ?? "gone"}", Patience);
        }

        await StepAsync("toggle off", ["remove", "interface", "eth100", "external_ids", "virtio_forwarder"], 3, null, "eth100", null);
        await StepAsync("toggle on", ["set", "interface", "eth100", "external_ids:virtio_forwarder=1"], 3, "net_null0", "eth100", "ready");
        int mark = daemon.StandardOutput.Length;
        await StepAsync("change value", ["set", "interface", "eth100", "external_ids:virtio_forwarder=2"], 3, "net_null0", "eth100", "ready");
        await StepAsync("add", Flag("eth101", "net_null1", 4)[1..], 4, "net_null1", "eth101", "pending");
        await StepAsync("rename", ["--", "del-port", "br0", "eth101", "--", "add-port", "br0", "eth201", .. Flag("eth201", "net_null1", 4)], 4, "net_null1", "eth201", "pending");
        string unchanged = daemon.StandardOutput[mark..];
        await StepAsync("remove port", ["del-port", "br0", "eth100"], 3, null, "eth100", null);
        await TestContext.Out.WriteLineAsync(string.Join(", ", took.Select(t => $"{t.Key} {t.Value.TotalMilliseconds:0} ms")));

        Assert.Multiple(() =>
        {
            Assert.That(unchanged, Does.Not.Contain("relay 3:"), "a new flag value and another port's changes leave relay 3 alone");
            Assert.That(unchanged, Does.Not.Contain("relay 4: Reconciled: detached"), "a rename that keeps the VF keeps the relay");
            foreach ((string step, TimeSpan time) in took)
            {
                Assert.That(time, Is.LessThan(Convergence), $"{step}: the relay set followed within {Convergence.TotalSeconds} s");
            }
        });
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task Bad_rows_get_their_reason_in_the_row_and_in_vio4wdctl_and_disturb_nothing()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync(["add-br", "br0", "--", "add-port", "br0", "good", .. Flag("good", "net_null0", 3)]);
        using DaemonProcess daemon = StartDaemon(ovsdb, sockets, "ovsdb-bad");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        int mark = daemon.StandardOutput.Length;

        await ovsdb.VsctlAsync("add-port", "br0", "banana", "--", "set", "interface", "banana", "external_ids:virtio_forwarder=banana");
        await ovsdb.VsctlAsync("add-port", "br0", "nosuchvf", "--", "set", "interface", "nosuchvf", "external_ids:virtio_forwarder=1");
        await ovsdb.VsctlAsync(["add-port", "br0", "range", .. Flag("range", "net_null1", 300)]);
        await ovsdb.VsctlAsync(["add-port", "br0", "same", .. Flag("same", "net_null2", 3)]);
        // Names that sort before "good": the time of the claim decides, not the name.
        await ovsdb.VsctlAsync(["add-port", "br0", "aaa-steal", .. Flag("aaa-steal", "net_null5", 3)]);
        await ovsdb.VsctlAsync(["add-port", "br0", "aab-device", .. Flag("aab-device", "net_null0", 7)]);
        var expected = new Dictionary<string, string>
        {
            ["banana"] = "error: external_ids:virtio_forwarder='banana' is not an integer",
            ["nosuchvf"] = "error: no network interface nosuchvf on this host; set external_ids:virtio_forwarder_dev and virtio_forwarder_relay",
            ["range"] = $"error: relay 300 is out of range (relays are 0..{DpdkBuildFacts.DefaultMaxRelays - 1})",
            ["same"] = "error: relay 3 is already used by interface good (ovsdb)",
            ["aaa-steal"] = "error: relay 3 is already used by interface good (ovsdb)",
            ["aab-device"] = "error: device net_null0 is already used by relay 3: interface good (ovsdb)",
        };
        foreach ((string port, string state) in expected)
        {
            await Eventually.UntilAsync(async () => await StateAsync(ovsdb, port) == $"\"{state}\"", $"{port}: {state}", Patience);
        }

        // A device DPDK cannot attach: the row says what the dataplane said, the relay keeps retrying.
        await ovsdb.VsctlAsync(["add-port", "br0", "ghost", .. Flag("ghost", "0000:99:00.0", 6)]);
        await Eventually.UntilAsync(async () => (await StateAsync(ovsdb, "ghost")).StartsWith("\"error: ", StringComparison.Ordinal), "ghost: error", Patience);
        string ghost = await StateAsync(ovsdb, "ghost");
        RelayView? six = await control.RelayAsync(6);

        (int code, string table, _) = await Vioctl.RunAsync("status");
        RelayView? good = await control.RelayAsync(3);
        Assert.Multiple(async () =>
        {
            Assert.That(code, Is.Zero);
            foreach ((string port, string state) in expected)
            {
                Assert.That(table, Does.Match($@"ovsdb\s+interface {port}\s+{System.Text.RegularExpressions.Regex.Escape(state)}"));
            }

            Assert.That((good?.Device, good?.Conditions.Single(c => c.Type == "DeviceReady").Status), Is.EqualTo(("net_null0", "True")));
            Assert.That(await StateAsync(ovsdb, "good"), Is.EqualTo("pending"), "the healthy row is untouched");
            Assert.That(ghost, Does.Contain("0000:99:00.0"));
            Assert.That(six?.Conditions.Single(c => c.Type == "Ready").Reason, Is.EqualTo("Error"));
            Assert.That(ghost, Does.Contain(six?.LastError ?? "no error on relay 6"), "row and vio4wdctl say the same");
            Assert.That(daemon.StandardOutput[mark..], Does.Not.Contain("relay 3:").And.Not.Contain("disconnected"), "no relay touched, OVSDB never dropped");
        });
    }

    [Test]
    public async Task A_port_removed_while_ovsdb_was_down_goes_when_it_is_back_and_the_other_relay_never_stops()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync(["add-br", "br0", "--", "add-port", "br0", "eth100", .. Flag("eth100", "net_null0", 3), "--", "add-port", "br0", "eth101", .. Flag("eth101", "net_null1", 4)]);
        string eth101Port = await ovsdb.VsctlAsync("get", "port", "eth101", "_uuid");
        using DaemonProcess daemon = StartDaemon(ovsdb, sockets, "ovsdb-restart");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={sockets.File("virtio-forwarder3.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Ready == true, "relay 3 ready", Patience);
        int mark = daemon.StandardOutput.Length;
        RelayStatsView before = (await control.RelayAsync(3))!.Stats;

        ovsdb.Kill();
        await daemon.WaitForOutputAsync("disconnected; reconnecting", Patience);
        await ovsdb.TransactFileAsync($$"""["Open_vSwitch",{"op":"mutate","table":"Bridge","where":[["name","==","br0"]],"mutations":[["ports","delete",["set",[["uuid","{{eth101Port}}"]]]]]}]""");
        RelayStatsView whileDown = await Eventually.HoldsAsync(async () => (await control.RelayAsync(3))!.Stats,
            s => s.VfToVm.TxPackets > before.VfToVm.TxPackets, Patience, "relay 3 forwarding while OVSDB is down");
        Assert.That((await control.RelayAsync(4))?.Device, Is.EqualTo("net_null1"), "nothing changes while OVSDB is away");
        await ovsdb.RestartAsync();

        await Eventually.UntilAsync(async () => (await control.RelayAsync(4))?.Device is null, "relay 4 goes once OVSDB is back", Patience);
        RelayStatsView after = (await control.RelayAsync(3))!.Stats;
        string log = daemon.StandardOutput[mark..];
        Assert.Multiple(() =>
        {
            Assert.That(whileDown.VfToVm.TxPackets, Is.GreaterThan(before.VfToVm.TxPackets), "relay 3 forwarded while OVSDB was down");
            Assert.That(after.VfToVm.DroppedPackets + after.VmToVf.DroppedPackets, Is.EqualTo(before.VfToVm.DroppedPackets + before.VmToVf.DroppedPackets), "without losing a packet");
            Assert.That(log, Does.Contain("OVSDB at " + ovsdb.Endpoint + ": connected"), "it reconnected on its own");
            Assert.That(log, Does.Contain("relay 4: Reconciled: detached net_null1"));
            Assert.That(log, Does.Not.Contain("relay 3:"), "relay 3 was never touched");
        });
    }

    [Test]
    public async Task Two_thousand_unflagged_interfaces_sync_fast_and_their_changes_cost_no_reconcile_work()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        // Like a cloud host's ports: each has external_ids (so the monitor sends them all), none is flagged.
        await ovsdb.VsctlAsync(["add-br", "br0", .. Enumerable.Range(0, 2000).SelectMany(i => new[]
        {
            "--", "add-port", "br0", $"x{i}", "--", "set", "interface", $"x{i}", $"external_ids:iface-id=port-{i}", "external_ids:iface-status=active",
        })]);
        using DaemonProcess daemon = StartDaemon(ovsdb, sockets, "ovsdb-2000");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        // The first sync also pays for compiling the code on its path; a resync after an
        // ovsdb-server restart is the steady cost.
        ovsdb.Kill();
        await ovsdb.RestartAsync();
        await Eventually.UntilAsync(() => Task.FromResult(SyncLine().Count(daemon.StandardOutput) == 2), "the resync", Patience);
        System.Text.RegularExpressions.Match first = SyncLine().Matches(daemon.StandardOutput)[0];
        System.Text.RegularExpressions.Match sync = SyncLine().Matches(daemon.StandardOutput)[1];
        IReadOnlyList<RelayView> before = await control.Api.StatusAsync();

        await ovsdb.VsctlAsync([.. Enumerable.Range(0, 200).SelectMany(i => new[] { "--", "set", "interface", $"x{i}", $"external_ids:note={i}" })]);
        await ovsdb.VsctlAsync([.. Enumerable.Range(200, 100).SelectMany(i => new[] { "--", "del-port", "br0", $"x{i}" })]);
        await ovsdb.VsctlAsync(Flag("x1999", "net_null0", 5)[1..]);
        TimeSpan flagged = await Eventually.UntilAsync(async () => (await control.RelayAsync(5))?.Device == "net_null0", "x1999 relayed", Patience);
        IReadOnlyList<RelayView> after = await control.Api.StatusAsync();
        await TestContext.Out.WriteLineAsync($"initial sync {first.Groups[1].Value} rows in {first.Groups[2].Value} ms, resync {sync.Groups[2].Value} ms; flagged row relayed in {flagged.TotalMilliseconds:0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(sync.Success, Is.True, "the daemon logs its initial sync");
            Assert.That(int.Parse(sync.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(2000));
            Assert.That(int.Parse(sync.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(2000), "a resync of 2000 rows takes well under 2 s (120-235 ms measured here)");
            Assert.That(after.Where(r => r.Id != 5).Select(r => r.Generation), Is.EqualTo(before.Where(r => r.Id != 5).Select(r => r.Generation)),
                "300 changes to unflagged rows changed no relay's desired state");
            Assert.That(flagged, Is.LessThan(Convergence), "a flagged row among 2000 converges as fast as alone");
        });
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"connected, monitoring with monitor_cond \((\d+) rows in (\d+) ms\)")]
    private static partial System.Text.RegularExpressions.Regex SyncLine();
}
