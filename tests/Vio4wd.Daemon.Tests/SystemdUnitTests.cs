using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>The shipped systemd units as systemd itself reads them, and what an operator relies on in them.</summary>
public class SystemdUnitTests
{
    private static readonly string Units = Path.Combine(DaemonProcess.RepoRoot, "systemd");

    private static string Unit(string name) => File.ReadAllText(Path.Combine(Units, name));

    /// <summary>
    /// <c>systemd-analyze verify</c> in a root holding the units, the programs they run (stubs: the
    /// tests do not install anything) and the host's targets. It prints nothing for a clean unit;
    /// unknown keys and out-of-range values are only warnings, so any output fails.
    /// </summary>
    [Test]
    public async Task Both_units_pass_systemd_analyze_verify_without_a_warning()
    {
        using var root = new TempDirectory();
        // A merged-/usr root, as Debian 12 and 13 install: systemd 257 (Debian 13) reads units
        // from /usr/lib/systemd/system only, 252 (Debian 12) from both spellings.
        foreach (string dir in new[] { "bin", "sbin", "lib" })
        {
            Directory.CreateDirectory(root.File($"usr/{dir}"));
            File.CreateSymbolicLink(root.File(dir), $"usr/{dir}");
        }

        foreach (string program in new[] { "usr/bin/virtio-forwarder", "usr/bin/vio4wd-core-scheduler", "bin/kill", "bin/sh" })
        {
            string path = root.File(program);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, "#!/bin/sh\n");
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
        }

        string system = root.File("usr/lib/systemd/system");
        Directory.CreateDirectory(system);
        foreach (string unit in Directory.EnumerateFiles("/usr/lib/systemd/system").Where(f => f.EndsWith(".target", StringComparison.Ordinal) || f.EndsWith(".slice", StringComparison.Ordinal)))
        {
            File.Copy(unit, Path.Combine(system, Path.GetFileName(unit)));
        }

        string[] ours = ["virtio-forwarder.service", "vio4wd_core_scheduler.service"];
        foreach (string unit in ours)
        {
            File.Copy(Path.Combine(Units, unit), Path.Combine(system, unit));
        }

        var info = new ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["verify", "--man=no", $"--root={root.Path}", .. ours.Select(u => Path.Combine(system, u))])
        {
            info.ArgumentList.Add(arg);
        }

        using Process verify = Process.Start(info)!;
        string output = await verify.StandardOutput.ReadToEndAsync() + await verify.StandardError.ReadToEndAsync();
        await verify.WaitForExitAsync();
        Assert.Multiple(() =>
        {
            Assert.That(verify.ExitCode, Is.Zero, output);
            Assert.That(output, Is.Empty);
        });
    }

    [Test]
    public void The_daemon_unit_restarts_on_failure_reloads_with_sighup_and_follows_ovsdb()
    {
        string unit = Unit("virtio-forwarder.service");
        Assert.Multiple(() =>
        {
            Assert.That(unit, Does.Contain("\nRestart=on-failure\n"));
            Assert.That(unit, Does.Contain("\nExecReload=/bin/kill -HUP $MAINPID\n"));
            Assert.That(unit, Does.Match(@"\nAfter=.*\bovsdb-server\.service\b"));
            Assert.That(unit, Does.Match(@"\nWants=.*\bovsdb-server\.service\b"));
            Assert.That(unit, Does.Contain("\nRequiresMountsFor=/dev/hugepages\n"));
            Assert.That(unit, Does.Contain("\nLimitMEMLOCK=infinity\n"));
            Assert.That(unit, Does.Contain("\nNice=-20\n"));
            Assert.That(unit, Does.Contain("\nOOMScoreAdjust="));
        });
    }

    // The user guide's `systemctl start vio4wd_core_scheduler` needs the file of that name.
    [Test]
    public void The_core_scheduler_unit_keeps_the_originals_name_and_passes_every_scheduler_setting()
    {
        string unit = Unit("vio4wd_core_scheduler.service");
        Assert.Multiple(() =>
        {
            Assert.That(unit, Does.Contain("\nAlias=vio4wd-core-scheduler.service\n"));
            foreach (string setting in new[] { "VIRTIOFWD_ZMQ_STATS_EP", "VIRTIOFWD_ZMQ_CORE_SCHED_EP", "VIO4WD_CORE_SCHED_SENSITIVITY",
                "VIO4WD_CORE_SCHED_POLL_INTERVAL", "VIO4WD_CORE_SCHED_LOG_LEVEL", "VIO4WD_CORE_SCHED_GLOBAL_NUMA_OPT",
                "VIO4WD_CORE_SCHED_LOAD_MODEL" })
            {
                Assert.That(unit, Does.Contain("$" + setting).Or.Contain("${" + setting), setting);
            }
        });
    }

    // The scheduler's command line as systemd's /bin/sh -c builds it from the file's values.
    [TestCase("y", true)]
    [TestCase("true", true)]
    [TestCase("", false)]
    [TestCase("n", false)]
    public async Task The_core_scheduler_unit_turns_the_numa_setting_into_its_option(string value, bool passed)
    {
        string unit = Unit("vio4wd_core_scheduler.service");
        string start = string.Concat(unit.Split('\n').SkipWhile(l => !l.StartsWith("ExecStart=", StringComparison.Ordinal))
            .TakeWhile((l, i) => i == 0 || !l.Contains('=', StringComparison.Ordinal) || l.StartsWith("  ", StringComparison.Ordinal))
            .Select(l => l.TrimEnd('\\')));
        string script = start["ExecStart=/bin/sh -c '".Length..start.LastIndexOf('\'')].Replace("exec /usr/bin/vio4wd-core-scheduler", "echo", StringComparison.Ordinal);
        var info = new ProcessStartInfo("/bin/sh", ["-c", script]) { RedirectStandardOutput = true };
        info.Environment["VIO4WD_CORE_SCHED_GLOBAL_NUMA_OPT"] = value;
        info.Environment["VIO4WD_CORE_SCHED_SENSITIVITY"] = "0.5";
        using Process sh = Process.Start(info)!;
        string line = (await sh.StandardOutput.ReadToEndAsync()).Trim();
        await sh.WaitForExitAsync();
        Assert.Multiple(() =>
        {
            Assert.That(line.Contains("--global-numa-opt", StringComparison.Ordinal), Is.EqualTo(passed), line);
            Assert.That(line, Does.Contain("--sensitivity=0.5"));
        });
    }
}
