using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// A full host: 256 relays (the default VIRTIOFWD_MAX_RELAYS, beyond Debian's DPDK and its 32
/// ports), each with a net_null VF and a socket; a VM on the last one forwards both ways.
/// </summary>
[NonParallelizable]
public class ScaleTests() : DaemonTest("scale")
{
    // 256, or as many as a smaller DPDK build allows (Debian's own libdpdk-dev: 32).
    private static readonly int Relays = DpdkBuildFacts.DefaultMaxRelays;
    private static new readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Test]
    public async Task Two_hundred_fifty_six_relays_or_the_builds_maximum_come_up_device_ready_and_the_last_one_forwards_both_ways()
    {
        using var sockets = new TempDirectory();
        string prefix = Prefix("scale");
        // Without hugepages each pool takes a 4 KiB page per mbuf (9.5 MiB a relay, 6.3 with 2 MiB pages).
        string[] vfs = [.. Enumerable.Range(0, Relays).SelectMany(i => new[] { "-P", $"net_null{i}={i}" })];
        using DaemonProcess daemon = DaemonProcess.Start(["-C", "1", "-M", "0", "--nodaemon", "-V", sockets.Path, .. vfs,
            "--eal-args", $"--no-huge -m 3072 --no-pci --file-prefix={prefix}"]);
        await daemon.WaitForOutputAsync("Forwarding", Patience);

        JsonElement relays = await Eventually.HoldsAsync(
            () => Vioctl.JsonAsync("status"),
            r => r.GetArrayLength() == Relays && r.EnumerateArray().All(x => Vioctl.Condition(x, "DeviceReady") == "True"),
            Patience, $"{Relays} relays DeviceReady in vio4wdctl status", () => daemon.StandardOutput[^Math.Min(4000, daemon.StandardOutput.Length)..]);
        Assert.That(relays.EnumerateArray().Select(r => r.GetProperty("id").GetInt32()), Is.EquivalentTo(Enumerable.Range(0, Relays)));
        Assert.That(Directory.GetFiles(sockets.Path), Has.Length.EqualTo(Relays), "a default socket per relay");

        // testpmd echoes what it receives: VF -> VM frames come back VM -> VF.
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={Path.Combine(sockets.Path, $"virtio-forwarder{Relays - 1}.sock")}"],
            ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        await Eventually.HoldsAsync(
            () => Vioctl.RelayAsync(Relays - 1),
            r => r.GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64() > 10_000
                && r.GetProperty("stats").GetProperty("vmToVf").GetProperty("txPackets").GetUInt64() > 10_000,
            Patience, $"relay {Relays - 1} forwarding both ways", () => vm.Output);

        JsonElement first = await Vioctl.RelayAsync(0);
        Assert.That(first.GetProperty("stats").GetProperty("vmToVf").GetProperty("txPackets").GetUInt64(), Is.Zero,
            "relay 0 has no VM: nothing of relay 255's traffic leaks into it");

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task A_relay_id_beyond_max_relays_is_refused_by_check_config_naming_the_setting()
    {
        int max = Math.Min(64, DpdkBuildFacts.MaxEthports);
        (int code, string stdout, string stderr) = await DaemonProcess.RunAsync("--check-config", "-C", "1", "--max-relays", $"{max}", "-P", $"net_null0={max}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero, stdout);
            Assert.That(stderr, Does.Contain($"relay {max} is out of range: relays are 0 to {max - 1} (VIRTIOFWD_MAX_RELAYS)"));
        });

        (code, _, stderr) = await DaemonProcess.RunAsync("--check-config", "-C", "1", "--max-relays", "100000");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero);
            Assert.That(stderr, Does.Contain("--max-relays").Or.Contain("VIRTIOFWD_MAX_RELAYS"));
            Assert.That(stderr, Does.Contain($"{DpdkBuildFacts.MaxEthports}"), "the bound is the DPDK build's");
        });
    }
}
