using System.Diagnostics;
using Vio4wd.Dataplane.Tests.Support;

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

            var info = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(DaemonProcess.RepoRoot, "tests", "compat", "zmq_services_test.py")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["VIO4WD_ZMQ_DIR"] = zmq,
                    ["VIO4WD_MAX_RELAYS"] = maxRelays.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["VIO4WD_CTL"] = DaemonProcess.CtlLauncher,
                    ["VIO4WD_CONTROL_SOCK"] = DaemonProcess.ControlSocket,
                    ["VIO4WD_PROTO"] = Path.Combine(DaemonProcess.RepoRoot, "src", "Vio4wd.Zmq", "Protocol", "virtioforwarder.proto"),
                },
            };
            using Process suite = Process.Start(info)!;
            Task<string> stdout = suite.StandardOutput.ReadToEndAsync();
            string report = await suite.StandardError.ReadToEndAsync();
            await suite.WaitForExitAsync();
            await TestContext.Out.WriteLineAsync(report);
            Assert.That(suite.ExitCode, Is.Zero, $"{await stdout}\n{report}");

            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
            Assert.That(Directory.GetFileSystemEntries(zmq), Is.Empty, "the ipc:// socket files go with the daemon");
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }
}
