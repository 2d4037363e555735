using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

[NonParallelizable]
public class DaemonPidFileTests
{
    [Test]
    public async Task A_second_daemon_with_the_same_pid_file_refuses_to_start_and_the_first_keeps_working()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-pid-{Environment.ProcessId}";
        string pidFile = dir.File("virtio-forwarder.pid");
        try
        {
            using DaemonProcess first = DaemonProcess.Start("-C", "1", "--nodaemon", "-p", dir.Path, "-V", dir.File("s"), "--dynamic-sockets",
                "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
            await first.WaitForOutputAsync("waiting for SIGTERM", TimeSpan.FromSeconds(60));
            Assert.That(ReadPid(pidFile), Is.EqualTo(first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));

            (int exit, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-p", dir.Path, "--dynamic-sockets",
                "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}-second");
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(1));
                Assert.That(stderr, Does.Contain($"virtio-forwarder: another virtio-forwarder (pid {first.Id}) is running: {pidFile} is locked"));
                Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix + "-second")), Is.False, "the second never touched DPDK");
                Assert.That(ReadPid(pidFile), Is.EqualTo(first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), "the PID file is untouched");
            });

            first.Signal("TERM");
            Assert.Multiple(async () =>
            {
                Assert.That(await first.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, "the first kept working and stops cleanly");
                Assert.That(File.Exists(pidFile), Is.False, "the PID file goes with the daemon");
            });
        }
        finally
        {
            DpdkRuntime.Remove(prefix, prefix + "-second");
        }
    }

    // File.ReadAllText would ask for a shared lock, which the daemon's exclusive one refuses
    // (as intended); cat-like readers take none.
    private static string ReadPid(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd().Trim();
    }
}
