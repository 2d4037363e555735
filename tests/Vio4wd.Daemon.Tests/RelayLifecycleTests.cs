using System.Diagnostics;
using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// A relay through its life as an operator follows it with vio4wdctl: a static VF given as DPDK
/// devargs (net_null, whose RX produces frames without end) and a VM stand-in (testpmd with
/// net_virtio_user, echoing what it receives).
/// </summary>
[NonParallelizable]
public class RelayLifecycleTests() : DaemonTest("relay-lifecycle")
{
    [Test]
    public async Task The_relay_gets_ready_counts_packets_reports_a_lost_vm_within_a_second_and_gets_ready_again()
    {
        using var dir = new TempDirectory();
        string prefix = Prefix("life");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0", "--control-group", "daemon",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        string[] vmDevice = [$"net_virtio_user0,path={dir.File("virtio-forwarder0.sock")}"];
        var vm = Testpmd.Start(vmDevice, ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        try
        {
            (int waited, string waitOut, string waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
            Assert.That((waited, waitOut.Trim()), Is.EqualTo((0, "relay 0 ready")), waitErr);

            JsonElement relay = await Vioctl.RelayAsync(0);
            Assert.Multiple(() =>
            {
                Assert.That(relay.GetProperty("ready").GetBoolean(), Is.True);
                Assert.That(relay.GetProperty("device").GetString(), Is.EqualTo("net_null0"));
                foreach (string type in new[] { "DeviceReady", "VhostConnected", "Ready" })
                {
                    Assert.That(Vioctl.Condition(relay, type), Is.EqualTo("True"), type);
                }
            });

            JsonElement stats = await CountedBothWaysAsync();
            (int flatCode, string flat, _) = await Vioctl.RunAsync("stats", "-o", "flat", "0");
            UnixFileMode mode = File.GetUnixFileMode(DaemonProcess.ControlSocket);
            Assert.Multiple(() =>
            {
                JsonElement vfToVm = stats.GetProperty("vfToVm");
                Assert.That(vfToVm.GetProperty("rxPacketRate").GetDouble(), Is.GreaterThan(0), "a rate over the window");
                Assert.That(vfToVm.GetProperty("cpu").GetInt32(), Is.EqualTo(1));
                Assert.That(flatCode, Is.Zero);
                Assert.That(flat, Does.StartWith("relay_0.active=True\nrelay_0.cpu.vf_to_vm=1\nrelay_0.cpu.vm_to_vf=1\n"));
                Assert.That(flat, Does.Match(@"relay_0\.vm_to_vf\.cpu_1\.pkts_tx_to_vf=[1-9]\d*\n"));
                Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
                Assert.That(GroupOf(DaemonProcess.ControlSocket), Is.EqualTo("daemon"), "--control-group");
            });

            // The VM dies: the relay says why within a second. The time is the condition's own
            // transition time, so the CLI's start-up on a busy machine does not count.
            DateTimeOffset killed = DateTimeOffset.UtcNow;
            vm.Kill();
            while (Vioctl.Condition(relay = await Vioctl.RelayAsync(0), "VhostConnected") != "False")
            {
                Assert.That(DateTimeOffset.UtcNow - killed, Is.LessThan(Patience), "the relay never noticed the VM was gone");
            }

            JsonElement vhost = relay.GetProperty("conditions").EnumerateArray().Single(c => c.GetProperty("type").GetString() == "VhostConnected");
            TimeSpan noticed = vhost.GetProperty("lastTransitionTime").GetDateTimeOffset() - killed;
            Assert.Multiple(() =>
            {
                Assert.That(noticed, Is.LessThan(TimeSpan.FromSeconds(1)), "VhostConnected=False within a second");
                Assert.That(vhost.GetProperty("reason").GetString(), Is.EqualTo("WaitingForVm"));
                Assert.That(vhost.GetProperty("message").GetString(), Does.Contain("virtio-forwarder0.sock"));
                Assert.That(relay.GetProperty("ready").GetBoolean(), Is.False);
            });

            await vm.DisposeAsync();
            vm = Testpmd.Start(vmDevice, ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
            Prefixes.Add(vm.Prefix);
            (waited, _, waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
            Assert.That(waited, Is.Zero, waitErr);
            (_, string describe, _) = await Vioctl.RunAsync("describe", "0");
            Assert.That(describe, Does.Contain("VmDisconnected").And.Contain("VmConnected").And.Contain("CPU 1 (automatic)"));

            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
        finally
        {
            await vm.DisposeAsync();
        }
    }

    [Test]
    public async Task A_relay_removed_behind_the_reconcilers_back_is_put_back_and_the_drift_recorded()
    {
        using var dir = new TempDirectory();
        string prefix = Prefix("drift");
        // The VM listens (vhost-user server) so it takes the daemon back after the drift.
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("virtio-forwarder0.sock")},server=1"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        using DaemonProcess daemon = DaemonProcess.Start(new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1" },
            "-C", "1", "--nodaemon", "--vhostuser-client", "--dynamic-sockets", "-V", dir.Path, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        (int waited, _, string waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
        Assert.That(waited, Is.Zero, waitErr);

        await Vioctl.HookAsync("test.removeRelay", 0);

        await daemon.WaitForOutputAsync("relay 0: DriftRepaired", Patience);
        (waited, _, waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
        Assert.That(waited, Is.Zero, waitErr);
        // The repair may take one pass or two (the hook removes the device, then the socket).
        JsonElement[] repairs = [.. (await Vioctl.RelayAsync(0)).GetProperty("events").EnumerateArray().Where(e => e.GetProperty("reason").GetString() == "DriftRepaired")];
        Assert.Multiple(() =>
        {
            Assert.That(repairs.Select(e => e.GetProperty("type").GetString()), Is.Not.Empty.And.All.EqualTo("Warning"));
            Assert.That(string.Join("; ", repairs.Select(e => e.GetProperty("message").GetString())), Does.Contain("attached net_null0").And.Contain("registered socket"));
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task Pin_sets_and_resets_a_relays_cpus_and_refuses_a_cpu_without_a_worker()
    {
        // This machine has two CPUs: one worker (CPU 1) beside the main lcore. Moves between
        // workers are the dataplane tests' business; here the request's path through the daemon.
        using var dir = new TempDirectory();
        string prefix = Prefix("pin");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);

        (int code, string pinned, string err) = await Vioctl.RunAsync("pin", "0", "1");
        JsonElement afterPin = (await Vioctl.RelayAsync(0)).GetProperty("cpus");
        (int badCode, _, string badErr) = await Vioctl.RunAsync("pin", "0", "0");
        (int resetCode, _, _) = await Vioctl.RunAsync("pin", "0", "reset");
        JsonElement afterReset = (await Vioctl.RelayAsync(0)).GetProperty("cpus");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, err);
            Assert.That(pinned.Trim(), Is.EqualTo("relay 0: VF to VM on CPU 1, VM to VF on CPU -"), "no VM yet: that direction does not run");
            Assert.That(afterPin.GetProperty("vfToVm").GetProperty("pinned").GetInt32(), Is.EqualTo(1));
            Assert.That(afterPin.GetProperty("vmToVf").GetProperty("pinned").GetInt32(), Is.EqualTo(1));
            Assert.That(badCode, Is.EqualTo(1));
            Assert.That(badErr.Trim(), Is.EqualTo("vio4wdctl: CPU 0 runs no worker; worker CPUs are 1"));
            Assert.That(resetCode, Is.Zero);
            Assert.That(afterReset.GetProperty("vfToVm").GetProperty("pinned").ValueKind, Is.EqualTo(JsonValueKind.Null), "back to automatic");
        });
    }

    /// <summary>Polls `vio4wdctl stats` until packets went both ways through relay 0.</summary>
    private static async Task<JsonElement> CountedBothWaysAsync()
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            JsonElement[] samples = [.. (await Vioctl.JsonAsync("stats", "0")).EnumerateArray()];
            if (samples.Length == 1
                && samples[0].GetProperty("vfToVm").GetProperty("txPackets").GetUInt64() > 1000
                && samples[0].GetProperty("vmToVf").GetProperty("txPackets").GetUInt64() > 1000)
            {
                return samples[0];
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"packets both ways; last: {string.Join<JsonElement>(", ", samples)}");
            await Task.Delay(200);
        }
    }

    private static string GroupOf(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%G", path]) { RedirectStandardOutput = true })!;
        string group = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return group;
    }
}
