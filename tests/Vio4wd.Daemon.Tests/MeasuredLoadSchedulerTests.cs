using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// vio4wd-core-scheduler on measured load: two worker lcores (mapped onto this machine's two CPUs
/// with --lcores), three relays whose VF-to-VM directions all start on worker 1, two of them
/// carrying ten times the traffic of the third (kernel taps as VFs, fed at fixed rates; one
/// testpmd as the three VMs). The scheduler moves a heavy direction to the idle worker once, the
/// workers' measured busy shares come together, and nothing moves again under the same load.
/// </summary>
[NonParallelizable]
public class MeasuredLoadSchedulerTests() : DaemonTest("measured-sched")
{
    private static new readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    // Frames into each tap at its rate, paced per millisecond, until killed.
    private const string Sender = """
        import socket, sys, time
        pairs = [(a.split('=')[0], int(a.split('=')[1])) for a in sys.argv[1:]]
        socks = []
        for iface, rate in pairs:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((iface, 0))
            socks.append((s, rate))
        frame = b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + b'\x88\xb5' + bytes(50)
        start = time.monotonic(); sent = [0] * len(socks)
        while True:
            due = time.monotonic() - start
            for i, (s, rate) in enumerate(socks):
                while sent[i] < rate * due:
                    s.send(frame); sent[i] += 1
            time.sleep(0.001)
        """;

    [Test]
    public async Task The_heavy_direction_leaves_the_busy_worker_once_and_the_busy_shares_converge()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        string tag = (Environment.ProcessId % 10000).ToString(CultureInfo.InvariantCulture);
        string[] taps = [.. Enumerable.Range(0, 3).Select(i => $"vsch{tag}t{i}")];
        var args = new List<string>
        {
            "-C", "1,2", "--nodaemon", "-V", dir.File("sockets"), "--dynamic-sockets",
            $"--zmq-core-sched-ep=ipc://{run}/core_sched", $"--zmq-stats-ep=ipc://{run}/stats",
            "--eal-args", $"--lcores=0@0,1@1,2@0 --no-huge -m 1024 --no-pci --file-prefix={Prefixes.Next("daemon")} --log-level=lib.vhost.config:warning",
        };
        for (int i = 0; i < 3; i++)
        {
            args.AddRange(["-P", $"net_tap{i},iface={taps[i]}={i}", "-c", $"{i}:1"]);
        }

        using DaemonProcess daemon = DaemonProcess.Start([.. args]);
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        await using var vms = Testpmd.Start(Enumerable.Range(0, 3).Select(i => $"net_virtio_user{i},path={dir.File($"sockets/virtio-forwarder{i}.sock")}"),
            ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"]);
        await Vioctl.RunAsync("wait", "--all", "--timeout", "60s");
        using Process sender = StartSender($"{taps[0]}=20000", $"{taps[1]}=20000", $"{taps[2]}=2000");
        try
        {
            // Before: every VF-to-VM direction on worker 1, worker 2 idle.
            JsonElement before = await Eventually.HoldsAsync(() => Vioctl.JsonAsync("top", "--interval", "2s"),
                t => Busy(t, 1) > 0.005 && Busy(t, 1) > 5 * Busy(t, 2), Patience, "worker 1 busy with all three relays");

            using SchedulerProcess scheduler = SchedulerProcess.Start("--console", "--poll-interval", "1", "--sensitivity", "0.25",
                "--stats-ep", $"ipc://{run}/stats", "--sched-ep", $"ipc://{run}/core_sched");
            await Eventually.UntilAsync(() => Task.FromResult(scheduler.Output.Contains("Scheduler response: OK", StringComparison.Ordinal)), "a migration", Patience);
            JsonElement after = await Eventually.HoldsAsync(() => Vioctl.JsonAsync("top", "--interval", "2s"),
                t => Busy(t, 2) > 0.3 * Busy(t, 1) && Busy(t, 1) > 0.3 * Busy(t, 2), Patience, "the workers' busy shares to come together");
            int[] heavyCpus = [.. after.GetProperty("relays").EnumerateArray().Where(r => r.GetProperty("id").GetInt32() < 2)
                .Select(r => r.GetProperty("vfToVm").GetProperty("cpu").GetInt32())];

            // Steady load: ten more rounds, and nothing moves again.
            int rounds = Rounds(scheduler.Output);
            await Eventually.HoldsAsync(() => Task.FromResult(Rounds(scheduler.Output)), r => r >= rounds + 10, Patience, "ten more rounds", () => scheduler.Output);
            string log = scheduler.Output;
            Assert.Multiple(() =>
            {
                Assert.That(heavyCpus, Is.EquivalentTo(new[] { 1, 2 }), "the two heavy relays on different workers");
                Assert.That(Count(log, "Migrating workers"), Is.EqualTo(1), $"one move, then none under steady load:\n{log}");
                Assert.That(log, Does.Contain("Measured worker busy shares: CPU1=").And.Not.Contain("no worker loads"), "balanced on measured load");
                Assert.That(before.GetProperty("workers").GetArrayLength(), Is.EqualTo(2));
            });
        }
        finally
        {
            sender.Kill();
            await sender.WaitForExitAsync();
        }
    }

    private static double Busy(JsonElement top, int cpu) =>
        top.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("cpu").GetInt32() == cpu).GetProperty("busyRatio").GetDouble();

    // A round ends with one of these lines (a group that looks unbalanced once says so and waits).
    private static int Rounds(string log) =>
        Count(log, "Worker cores still sufficiently balanced.") + Count(log, "moving if the next round agrees") + Count(log, "Migrating workers");

    private static int Count(string text, string what) => (text.Length - text.Replace(what, string.Empty, StringComparison.Ordinal).Length) / what.Length;

    private static Process StartSender(params string[] rates)
    {
        foreach (string rate in rates)
        {
            using Process up = Process.Start("ip", ["link", "set", "dev", rate.Split('=')[0], "up"])!;
            up.WaitForExit();
        }

        var info = new ProcessStartInfo("python3", ["-c", Sender, .. rates]) { RedirectStandardError = true };
        return Process.Start(info)!;
    }
}
