using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The usual reasons DPDK will not start, each named by the daemon (DPDK itself reports a
/// missing hugetlbfs mount as "permission denied"): exit 255, the cause and the fix on stderr,
/// nothing left behind.
/// </summary>
[NonParallelizable]
public class EalStartFailureTests() : DaemonTest("ealfail")
{
    private static async Task<string> FailedStartAsync(params string[] args)
    {
        (int code, _, string stderr) = await DaemonProcess.RunAsync(["--nodaemon", .. args]);
        Assert.That(code, Is.EqualTo(255), stderr);
        Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False, "no control socket left");
        return stderr;
    }

    [Test]
    public async Task A_worker_cpu_that_is_not_online_is_named()
    {
        int absent = Environment.ProcessorCount + 3;
        string stderr = await FailedStartAsync("-C", absent.ToString(System.Globalization.CultureInfo.InvariantCulture), "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("cpu")}");
        Assert.That(stderr, Does.Contain($"virtio-forwarder: CPU {absent} is offline or absent on this host"));
    }

    // A pod with a CPU limit (or a cgroup cpuset, or taskset) may not run on every online CPU.
    [Test]
    public async Task A_worker_cpu_outside_the_processs_allowed_cpus_is_named()
    {
        var info = new System.Diagnostics.ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["-c", "0", DaemonProcess.Launcher, "--nodaemon", "-C", "1", "--pid-path", DaemonProcess.PidDirectory,
            "--control-sock", DaemonProcess.ControlSocket, "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("affinity")}"])
        {
            info.ArgumentList.Add(arg);
        }

        using var daemon = System.Diagnostics.Process.Start(info)!;
        Task<string> stdout = daemon.StandardOutput.ReadToEndAsync();
        string stderr = await daemon.StandardError.ReadToEndAsync();
        await daemon.WaitForExitAsync();
        await stdout;
        Assert.Multiple(() =>
        {
            Assert.That(daemon.ExitCode, Is.EqualTo(255), stderr);
            Assert.That(stderr, Does.Contain("virtio-forwarder: CPU 1 is not among the CPUs this process may use (0: its cgroup cpuset"));
        });
    }

    [Test]
    public async Task A_missing_hugepage_directory_is_named_not_called_permission_denied()
    {
        using var dir = new TempDirectory();
        string missing = dir.File("no-such-hugetlbfs");
        string stderr = await FailedStartAsync("-C", "1", "--huge-dir", missing, "--eal-args", $"--no-pci --file-prefix={Prefix("nodir")}");
        Assert.Multiple(() =>
        {
            Assert.That(stderr, Does.Contain($"virtio-forwarder: the hugepage directory {missing} does not exist: mount hugetlbfs there"));
            Assert.That(stderr, Does.Not.Contain("permission denied"));
        });
    }

    [Test]
    public async Task A_hugepage_directory_that_is_not_hugetlbfs_is_named()
    {
        using var dir = new TempDirectory();
        string stderr = await FailedStartAsync("-C", "1", "--huge-dir", dir.Path, "--eal-args", $"--no-pci --file-prefix={Prefix("notfs")}");
        Assert.That(stderr, Does.Contain($"virtio-forwarder: {dir.Path} is not a hugetlbfs mount"));
    }

    [Test]
    public async Task Too_few_free_hugepages_for_the_memory_asked_for_is_named()
    {
        using var dir = new TempDirectory();
        await RunAsync("mount", "-t", "hugetlbfs", "nodev", dir.Path);
        try
        {
            // Far more than any machine reserves: whatever is free here is too little.
            string stderr = await FailedStartAsync("-C", "1", "--huge-dir", dir.Path, "--eal-args", $"--no-pci --file-prefix={Prefix("few")} --socket-mem 10000000");
            Assert.That(stderr, Does.Match(@"virtio-forwarder: too few free hugepages: \d+ free 2048 kB pages \(\d+ MB\) for the 10000000 MB asked for"));
        }
        finally
        {
            await RunAsync("umount", dir.Path);
        }
    }

    [Test]
    public async Task A_runtime_folder_another_dpdk_process_holds_is_named()
    {
        string prefix = Prefix("busy");
        using var sockets = new TempDirectory();
        using var otherPids = new TempDirectory();
        using DaemonProcess first = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        await first.WaitForOutputAsync("Forwarding", Patience);

        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-V", sockets.File("second"), "--pid-path", otherPids.Path,
            "--control-sock", otherPids.File("control.sock"), "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(255));
            Assert.That(stderr, Does.Contain($"virtio-forwarder: another DPDK process is running with --file-prefix {prefix}"));
            Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.True, "the first daemon's control socket is left alone");
        });

        first.Signal("TERM");
        Assert.That(await first.WaitForExitAsync(Patience), Is.Zero, first.StandardError);
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using Process process = Process.Start(program, args);
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"{program} {string.Join(' ', args)}");
    }
}
