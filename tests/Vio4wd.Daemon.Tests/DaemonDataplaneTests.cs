using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>The daemon brings the real DPDK EAL up (no hugepages) and takes it down on SIGTERM.</summary>
public class DaemonDataplaneTests() : DaemonTest("daemon-dataplane")
{
    private int _started;

    private string NewPrefix() => Prefix($"{_started++}");

    [TestCase("Starting virtio-forwarder")]
    [TestCase("relay 31: Reconciled")]
    public async Task Sigterm_while_starting_stops_cleanly_with_exit_0(string startedUpTo)
    {
        string prefix = NewPrefix();
        using var sockets = new Vio4wd.Testing.TempDirectory();
        // Client mode: 32 sockets with nobody listening make the start slow enough to interrupt.
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--vhostuser-client", "-V", sockets.Path,
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        await daemon.WaitForOutputAsync(startedUpTo, TimeSpan.FromSeconds(60));
        daemon.Signal("TERM");
        int exitCode = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, daemon.StandardError);
            Assert.That(daemon.StandardError, Does.Not.Contain("Unhandled exception"));
            Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix)), Is.False, "the EAL runtime folder is removed on exit");
            Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False);
        });
    }

    [Test]
    public async Task Starts_the_eal_and_stops_cleanly_on_sigterm_removing_its_sockets()
    {
        string prefix = NewPrefix();
        using var sockets = new Vio4wd.Testing.TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "-M", "0", "--nodaemon", "-V", sockets.Path, "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        await daemon.WaitForOutputAsync("waiting for SIGTERM", TimeSpan.FromSeconds(60));
        int maxRelays = int.Parse(System.Text.RegularExpressions.Regex.Match(daemon.StandardOutput, @"Maximum relays is (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(daemon.StandardOutput, Does.Match(@"DPDK version: DPDK \d+\.\d+"));
            Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix)), Is.True);
            Assert.That(Directory.GetFiles(sockets.Path).Select(Path.GetFileName).Order(),
                Is.EqualTo(Enumerable.Range(0, maxRelays).Select(i => $"virtio-forwarder{i}.sock").Order()),
                "default-socket mode: one server socket per relay, named from the template");
        });

        daemon.Signal("TERM");
        int exitCode = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, daemon.StandardError);
            Assert.That(daemon.StandardOutput, Does.Contain("Stopping virtio-forwarder"));
            Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix)), Is.False, "the EAL runtime folder is removed on exit");
            Assert.That(Directory.GetFiles(sockets.Path), Is.Empty, "server sockets are removed on exit");
        });
    }

    [Test]
    public async Task Bad_eal_arguments_fail_the_start_with_a_clear_message()
    {
        string prefix = NewPrefix();
        (int exitCode, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "-n", "--eal-args", $"--no-huge --no-pci --file-prefix={prefix} --no-such-eal-option");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(255));
            Assert.That(stderr, Does.Contain("virtio-forwarder: DPDK EAL initialisation failed: invalid EAL arguments (rte_errno 22: Invalid argument)"));
            Assert.That(stderr, Does.Contain("--no-such-eal-option"));
        });
    }
}
