using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>Host set-up the original's pre-start script did, now done by the daemon (against a fake sysfs).</summary>
[NonParallelizable]
public class HostSetupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Bind_vfio_pci_writes_driver_override_unbind_and_probe_and_names_the_driver_that_kept_the_device()
    {
        using var sysfs = new TempDirectory();
        string device = sysfs.File("bus/pci/devices/0000:05:08.1");
        Directory.CreateDirectory(device);
        Directory.CreateDirectory(sysfs.File("bus/pci/drivers/iavf"));
        Directory.CreateDirectory(sysfs.File("bus/pci/drivers/vfio-pci"));
        Directory.CreateSymbolicLink(Path.Combine(device, "driver"), sysfs.File("bus/pci/drivers/iavf"));
        string prefix = $"vio4wd-hostsetup-{Environment.ProcessId}";
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(
                new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_SYSFS_ROOT"] = sysfs.Path },
                "-C", "1", "--nodaemon", "--dynamic-sockets", "-V", sysfs.File("sockets"), "--config", await ConfigAsync(sysfs),
                "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            Assert.Multiple(async () =>
            {
                // A fake tree has no kernel to move the device: the daemon says who still has it.
                Assert.That(daemon.StandardOutput, Does.Contain("VIRTIOFWD_BIND_VFIO_PCI: 0000:05:08.1 is bound to iavf, not vfio-pci, after binding"));
                Assert.That(await File.ReadAllTextAsync(Path.Combine(device, "driver_override")), Is.EqualTo("vfio-pci"));
                Assert.That(await File.ReadAllTextAsync(sysfs.File("bus/pci/drivers/iavf/unbind")), Is.EqualTo("0000:05:08.1"));
                Assert.That(await File.ReadAllTextAsync(sysfs.File("bus/pci/drivers_probe")), Is.EqualTo("0000:05:08.1"));
            });
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    private static async Task<string> ConfigAsync(TempDirectory dir)
    {
        string config = dir.File("virtioforwarder");
        await File.WriteAllTextAsync(config, "VIRTIOFWD_BIND_VFIO_PCI=05:08.1\n");
        return config;
    }
}
