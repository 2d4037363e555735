using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The daemon relaying real packets: a static VF (a net_null vdev, whose RX produces frames
/// without end) and a VM stand-in (testpmd with net_virtio_user, echoing what it receives).
/// </summary>
[NonParallelizable]
public class DaemonRelayTests() : DaemonTest("daemon-relay")
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
            long before = await vm.ReceivedAsync();
            await vm.WaitForMoreReceivedAsync(before, "frames from the first daemon", Patience);

            // The relay process dies without any cleanup; the VM keeps running.
            first.Signal("KILL");
            await first.WaitForExitAsync(Patience);
        }

        long afterCrash = await vm.ReceivedAsync();
        using DaemonProcess second = DaemonProcess.Start(args);
        await second.WaitForOutputAsync("relay 0: VM connected", Patience);
        await vm.WaitForMoreReceivedAsync(afterCrash, "frames from the restarted daemon", Patience);
        Assert.That(vm.HasExited, Is.False, "the VM side ran through the relay's restart");

        second.Signal("TERM");
        Assert.That(await second.WaitForExitAsync(Patience), Is.Zero, second.StandardError);
    }
}
