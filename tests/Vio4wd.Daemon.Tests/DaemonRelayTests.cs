using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The daemon relaying real packets: a static VF (a net_null vdev, whose RX produces frames
/// without end) and a VM stand-in (testpmd with net_virtio_user, echoing what it receives).
/// </summary>
[NonParallelizable]
public partial class DaemonRelayTests() : DaemonTest("daemon-relay")
{
    [Test]
    public async Task In_client_mode_the_daemon_restarts_under_a_running_vm_and_traffic_resumes()
    {
        using var sockets = new TempDirectory();
        string prefix = Prefix("relay");
        string[] args = ["-C", "1", "-M", "0", "--nodaemon", "--vhostuser-client", "-V", sockets.Path, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning"];

        await using var vm = Testpmd.Start([$"net_virtio_user0,path={Path.Combine(sockets.Path, "virtio-forwarder0.sock")},server=1"],
            ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);

        using (DaemonProcess first = DaemonProcess.Start(args))
        {
            await first.WaitForOutputAsync("relay 0: VM connected", Patience);
            long before = await VmReceivedAsync(vm);
            await WaitForMoreAsync(vm, before, "frames from the first daemon");

            // The relay process dies without any cleanup; the VM keeps running.
            first.Signal("KILL");
            await first.WaitForExitAsync(Patience);
        }

        long afterCrash = await VmReceivedAsync(vm);
        using DaemonProcess second = DaemonProcess.Start(args);
        await second.WaitForOutputAsync("relay 0: VM connected", Patience);
        await WaitForMoreAsync(vm, afterCrash, "frames from the restarted daemon");
        Assert.That(vm.HasExited, Is.False, "the VM side ran through the relay's restart");

        second.Signal("TERM");
        Assert.That(await second.WaitForExitAsync(Patience), Is.Zero, second.StandardError);
    }

    private static async Task WaitForMoreAsync(Testpmd vm, long baseline, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        long now;
        while ((now = await VmReceivedAsync(vm)) <= baseline + 1000)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}: the VM received {now - baseline}\n{vm.Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Frames the VM stand-in has received, from its port statistics.</summary>
    private static async Task<long> VmReceivedAsync(Testpmd vm)
    {
        int seen = RxPackets().Count(vm.Output);
        await vm.SendAsync("show port stats 0");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        MatchCollection matches;
        while ((matches = RxPackets().Matches(vm.Output)).Count <= seen)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"testpmd did not print its port statistics\n{vm.Output}");
            }

            await Task.Delay(50);
        }

        return long.Parse(matches[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"RX-packets: (\d+)")]
    private static partial Regex RxPackets();
}
