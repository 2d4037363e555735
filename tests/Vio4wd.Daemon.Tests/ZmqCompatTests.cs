using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The Python compatibility suite (tests/compat, pyzmq + protobuf as the original's tools) against
/// the real daemon's ZMQ services.
/// </summary>
[NonParallelizable]
public class ZmqCompatTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task The_config_stats_and_core_scheduler_services_answer_as_the_originals_did()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-zmq-{Environment.ProcessId}";
        string zmq = dir.File("run");
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.File("sockets"), "-P", "net_null0=0", "--virtio-cpu", "0:1",
                $"--zmq-config-ep=ipc://{zmq}/config", $"--zmq-stats-ep=ipc://{zmq}/stats", $"--zmq-core-sched-ep=ipc://{zmq}/core_sched",
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            int maxRelays = int.Parse(System.Text.RegularExpressions.Regex.Match(daemon.StandardOutput, @"Maximum relays is (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

            await RunSuiteAsync("zmq_services_test.py", zmq, maxRelays, new Dictionary<string, string>());
            using (Process ss = Process.Start(new ProcessStartInfo("ss", ["-Hltunp"]) { RedirectStandardOutput = true })!)
            {
                string listening = await ss.StandardOutput.ReadToEndAsync();
                await ss.WaitForExitAsync();
                Assert.That(listening, Does.Not.Contain($"pid={daemon.Id},"), "nothing listens on TCP or UDP unless configured");
            }


            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
            Assert.That(Directory.GetFileSystemEntries(zmq), Is.Empty, "the ipc:// socket files go with the daemon");
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    [Test]
    public async Task Port_control_answers_as_the_original_did_and_bad_requests_change_nothing()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-zmqpc-{Environment.ProcessId}";
        string vmPrefix = $"vio4wd-daemon-zmqpc-vm-{Environment.ProcessId}";
        string zmq = dir.File("run");
        string aliases = string.Join(';', Enumerable.Range(0, 8).Select(i => $"0000:00:01.{i}=net_null{i + 1}"))
            + ";" + string.Join(';', Enumerable.Range(0, 8).Select(i => $"0000:00:02.{i}=net_null{i + 10}"));
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(
                new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_PCI_ALIASES"] = aliases },
                "-C", "1", "--nodaemon", "--dynamic-sockets", "-V", dir.File("sockets"), "-P", "net_null0=0", "--control-group", "daemon",
                $"--zmq-port-control-ep=ipc://{zmq}/port_control", $"--zmq-stats-ep=ipc://{zmq}/stats",
                "--eal-args", $"--no-huge -m 1024 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            int maxRelays = int.Parse(System.Text.RegularExpressions.Regex.Match(daemon.StandardOutput, @"Maximum relays is (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            await RunSuiteAsync("zmq_port_control_test.py", zmq, maxRelays, new Dictionary<string, string>
            {
                ["VIO4WD_SOCKET_DIR"] = dir.File("sockets"),
                ["VIO4WD_TESTPMD_PREFIX"] = vmPrefix,
            });

            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
        finally
        {
            DpdkRuntime.Remove([prefix, $"{vmPrefix}-added", $"{vmPrefix}-relay0"]);
        }
    }

    private static async Task RunSuiteAsync(string script, string zmqDir, int maxRelays, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(DaemonProcess.RepoRoot, "tests", "compat", script)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["VIO4WD_ZMQ_DIR"] = zmqDir,
                ["PYTHONDONTWRITEBYTECODE"] = "1", // no __pycache__ left in the source tree
                ["VIO4WD_MAX_RELAYS"] = maxRelays.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["VIO4WD_CTL"] = DaemonProcess.CtlLauncher,
                ["VIO4WD_CONTROL_SOCK"] = DaemonProcess.ControlSocket,
                ["VIO4WD_PROTO"] = Path.Combine(DaemonProcess.RepoRoot, "src", "Vio4wd.Contracts", "Protocol", "virtioforwarder.proto"),
            },
        };
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

        using Process suite = Process.Start(info)!;
        Task<string> stdout = suite.StandardOutput.ReadToEndAsync();
        string report = await suite.StandardError.ReadToEndAsync();
        await suite.WaitForExitAsync();
        await TestContext.Out.WriteLineAsync(report);
        Assert.That(suite.ExitCode, Is.Zero, $"{await stdout}\n{report}");
    }
}
