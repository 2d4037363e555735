using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>vio4wd-core-scheduler against the real daemon's stats and core-scheduler services.</summary>
[NonParallelizable]
public class CoreSchedulerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task It_reads_the_map_judges_the_balance_and_stops_on_sigterm()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-sched-{Environment.ProcessId}";
        string run = dir.File("run");
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.File("sockets"), "-P", "net_null0=0",
                $"--zmq-core-sched-ep=ipc://{run}/core_sched", $"--zmq-stats-ep=ipc://{run}/stats",
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            await using var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("sockets/virtio-forwarder0.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
            await daemon.WaitForOutputAsync("relay 0: VM connected", Patience);
            (int code, string output) = await RunSchedulerAsync(
                "Worker cores still sufficiently balanced.", "--console", "--poll-interval", "0.5", "--stats-ep", $"ipc://{run}/stats", "--sched-ep", $"ipc://{run}/core_sched");
            Assert.Multiple(() =>
            {
                Assert.That(code, Is.Zero, output);
                Assert.That(output, Does.Contain("Worker cores affinities:\n========\n== 01 ==   \n00    00   \n========"), "relay 0's two directions on worker 1");
            });
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    [Test]
    public async Task Without_a_daemon_it_says_so_and_keeps_trying_until_stopped()
    {
        (int code, string output) = await RunSchedulerAsync("No response from core scheduler server. Reconnecting...",
            "--console", "--poll-interval", "0.2", "--stats-ep", "ipc:///tmp/vio4wd-no-daemon/stats", "--sched-ep", "ipc:///tmp/vio4wd-no-daemon/core_sched");
        Assert.That(code, Is.Zero, output);
    }

    // Runs the scheduler until it prints what is awaited, then stops it with SIGTERM.
    private static async Task<(int Code, string Output)> RunSchedulerAsync(string awaited, params string[] args)
    {
        using SchedulerProcess scheduler = SchedulerProcess.Start(args);
        await Eventually.UntilAsync(() => Task.FromResult(scheduler.Output.Contains(awaited, StringComparison.Ordinal) || scheduler.HasExited), $"the scheduler to print '{awaited}'", Patience);
        Assert.That(scheduler.Output, Does.Contain(awaited), "it exited first");
        int code = await scheduler.StopAsync(Patience);
        return (code, scheduler.Output);
    }
}
