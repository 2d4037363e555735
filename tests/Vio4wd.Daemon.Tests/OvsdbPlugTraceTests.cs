using System.Globalization;
using System.Text.RegularExpressions;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// What an operator sees of a plug's latency: each step in the debug log, the last change in
/// <c>vio4wdctl describe</c>, a histogram in the metrics. The figures themselves are for
/// <c>make bench</c> (bench/ovsdb_convergence.py); here only that they are there and agree.
/// </summary>
[NonParallelizable]
public class OvsdbPlugTraceTests() : DaemonTest("ovsdb-plug-trace")
{
    [Test]
    public async Task A_plug_is_traced_step_by_step_in_the_debug_log_in_describe_and_in_the_plug_metric()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "eth100");
        string prefix = Prefix("trace");
        int port = PrometheusServer.FreePort();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--loglevel", "7", "-V", sockets.Path, "-O", ovsdb.Endpoint,
            "--allow-runtime-devargs", "--metrics-address", port.ToString(CultureInfo.InvariantCulture),
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={sockets.File("virtio-forwarder3.sock")}"], ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Conditions.Any(c => c.Type == "VhostConnected" && c.Status == "True") == true,
            "the VM on relay 3", Patience);

        await ovsdb.VsctlAsync("set", "interface", "eth100", "external_ids:virtio_forwarder=1", "external_ids:virtio_forwarder_dev=net_null0", "external_ids:virtio_forwarder_relay=3");
        RelayView three = await Eventually.HoldsAsync(() => control.RelayAsync(3), r => r?.LastPlug?.RowMs is not null,
            Patience, "relay 3's plug traced to its row") ?? throw new AssertionException("relay 3 went");
        PlugView plug = three.LastPlug!;
        (int code, string describe, _) = await Vioctl.RunAsync("describe", "3");
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        await TestContext.Out.WriteLineAsync(describe);

        Assert.Multiple(() =>
        {
            Assert.That((plug.Kind, plug.Source), Is.EqualTo(("plug", "ovsdb")));
            Assert.That(plug.Steps.Select(s => s.Name), Is.EqualTo(new[]
            {
                "input received", "desired state changed", "queued", "dequeued", "pass started", "live state read",
                "device attached", "live state read", "ready", "row written", "row acknowledged",
            }));
            Assert.That(plug.Steps.Select(s => s.AtMs), Is.Ordered);
            Assert.That(plug.RowMs, Is.GreaterThanOrEqualTo(plug.DoneMs!.Value));
            Assert.That(code, Is.Zero);
            Assert.That(describe, Does.Match(@"Last change:\s+plug, ready in \d+\.\d ms \(ovsdb, \S+ ago\), row ready in \d+\.\d ms; slowest step: [a-z ]+, \d+\.\d ms"));
            Assert.That(daemon.StandardOutput, Does.Match(@"relay 3: plug \(ovsdb\) applied in \d+\.\d ms: input received, desired state changed \+\d+\.\d\d, queued .*device attached \+\d+\.\d\d.*ready \+\d+\.\d\d \(slowest: "));
            Assert.That(daemon.StandardOutput, Does.Match(@"relay 3: plug \(ovsdb\) row acknowledged in \d+\.\d ms: .*row written \+\d+\.\d\d, row acknowledged \+\d+\.\d\d"));
            Assert.That(Regex.Match(metrics, @"^vio4wd_plug_duration_seconds_count\{stage=""plug""\} (\d+)", RegexOptions.Multiline).Groups[1].Value, Is.EqualTo("1"));
            Assert.That(Regex.Match(metrics, @"^vio4wd_plug_duration_seconds_count\{stage=""row""\} (\d+)", RegexOptions.Multiline).Groups[1].Value, Is.EqualTo("1"));
        });
    }

    [Test]
    public async Task A_flood_of_2000_flag_toggles_costs_at_most_a_cpu_leaves_the_other_relay_forwarding_and_settles_on_the_last_state()
    {
        const int Toggles = 2000;
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "flood", "--", "add-port", "br0", "steady",
            "--", "set", "interface", "steady", "external_ids:virtio_forwarder=1", "external_ids:virtio_forwarder_dev=net_null1", "external_ids:virtio_forwarder_relay=4",
            "--", "set", "interface", "flood", "external_ids:virtio_forwarder_dev=net_null0,no-rx=1", "external_ids:virtio_forwarder_relay=3");
        string prefix = Prefix("flood");
        int port = PrometheusServer.FreePort();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "-O", ovsdb.Endpoint, "--allow-runtime-devargs",
            "--metrics-address", port.ToString(CultureInfo.InvariantCulture),
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        using var http = new HttpClient();
        async Task<double> PassesAsync() => double.Parse(Regex.Match(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")),
            @"^vio4wd_reconcile_passes_total (\S+)", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={sockets.File("virtio-forwarder4.sock")}"], ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        await Eventually.UntilAsync(async () => (await control.RelayAsync(4))?.Ready == true, "the steady relay forwarding", Patience);

        await using var writer = await Vio4wd.Ovsdb.OvsdbConnection.ConnectAsync(Vio4wd.Ovsdb.OvsdbEndpoint.Parse(ovsdb.Endpoint), Patience, CancellationToken.None);
        RelayView steadyBefore = (await control.RelayAsync(4))!;
        double passesBefore = await PassesAsync();
        double cpuBefore = ControlPlaneCpuSeconds(daemon.Id);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < Toggles; i++)
        {
            string mutator = i % 2 == 0 ? "insert" : "delete";
            object value = i % 2 == 0 ? new object[] { "map", new[] { new[] { "virtio_forwarder", "1" } } } : new object[] { "set", new[] { "virtio_forwarder" } };
            await writer.TransactAsync("Open_vSwitch", [Newtonsoft.Json.Linq.JObject.FromObject(new
            {
                op = "mutate",
                table = "Interface",
                where = new[] { new object[] { "name", "==", "flood" } },
                mutations = new[] { new object[] { "external_ids", mutator, value } },
            })]);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (ControlPlaneCpuSeconds(daemon.Id) - cpuBefore) / seconds;
        double passes = await PassesAsync() - passesBefore;
        // Toggled an even number of times: the flag is off again, so relay 3 ends without its device.
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Device is null && await OvsdbPortControlTests.StateAsync(ovsdb, "flood") == string.Empty,
            "the flooded relay settled on the last state (not flagged)", Patience);
        // Once settled, the runtime's tiered compiler still spends a second or so compiling what the
        // flood made hot (once, not per toggle): not counted there.
        double idleBefore = ControlPlaneCpuSeconds(daemon.Id, withCompiler: false);
        await Task.Delay(TimeSpan.FromSeconds(3));
        double idle = (ControlPlaneCpuSeconds(daemon.Id, withCompiler: false) - idleBefore) / 3;
        RelayView steadyAfter = (await control.RelayAsync(4))!;
        await TestContext.Out.WriteLineAsync($"{Toggles} toggles in {seconds:0.0} s: the daemon's control plane used {cpu:P0} of a CPU, {idle:P1} once settled; " +
            $"relay 3 took {(await control.RelayAsync(3))?.Generation} generations in {passes} reconcile passes");

        Assert.Multiple(() =>
        {
            Assert.That(cpu, Is.LessThan(1.0), "the flood costs at most the one reconcile loop");
            // Changes that come while a relay's pass runs make one more pass, not one each; and the
            // reconciler's token bucket (a burst of 1024, then 100 a second) holds whatever is left.
            Assert.That(passes, Is.LessThan(Toggles), "toggles are coalesced into passes");
            Assert.That(passes, Is.LessThanOrEqualTo(1024 + (100 * seconds) + 10), "passes held to the reconciler's rate limit");
            Assert.That(idle, Is.LessThan(0.1), "no backlog left to work off once the flood stops");
            Assert.That(steadyAfter.Ready, Is.True, "the other relay stayed up");
            Assert.That(steadyAfter.Stats.VfToVm.TxPackets, Is.GreaterThan(steadyBefore.Stats.VfToVm.TxPackets), "and kept forwarding");
            Assert.That(steadyAfter.Stats.VfToVm.DroppedPackets, Is.EqualTo(steadyBefore.Stats.VfToVm.DroppedPackets), "without a drop");
            Assert.That(steadyAfter.Events.Select(e => e.Reason), Is.EqualTo(steadyBefore.Events.Select(e => e.Reason)), "and nothing happened to it");
        });
    }

    [Test]
    public async Task The_daemons_own_threads_stay_off_the_worker_cpu_so_none_waits_behind_a_polling_worker()
    {
        using var sockets = new TempDirectory();
        string prefix = Prefix("threads");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "-M", "0", "--nodaemon", "-V", sockets.Path, "-P", "net_null0,no-rx=1=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        // Threads started after the move (the thread pool grows under load) inherit it.
        (int code, _, _) = await Vioctl.RunAsync("status");
        var threads = Directory.EnumerateDirectories($"/proc/{daemon.Id}/task").Select(t =>
        {
            try
            {
                string comm = File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n');
                string cpus = File.ReadLines(Path.Combine(t, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim();
                return (Name: comm, Cpus: cpus);
            }
            catch (IOException)
            {
                return (Name: "gone", Cpus: "0");
            }
        }).ToList();
        await TestContext.Out.WriteLineAsync(string.Join(", ", threads.Select(t => $"{t.Name} [{t.Cpus}]")));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(daemon.StandardOutput, Does.Match(@"\d+ threads of the daemon moved off the worker CPUs 1, to CPUs 0"));
            Assert.That(threads.Where(t => DpdkBuildFacts.IsWorkerThread(t.Name)).Select(t => t.Cpus), Is.EqualTo(new[] { "1" }), "the worker keeps its CPU");
            Assert.That(threads.Where(t => !DpdkBuildFacts.IsWorkerThread(t.Name)).Select(t => $"{t.Name} [{t.Cpus}]"),
                Is.All.EndsWith("[0]"), "every other thread is kept to CPU 0");
        });
    }

    // CPU seconds of the daemon's threads but its DPDK workers (which poll whatever happens) and,
    // unless asked, the runtime's background compiler.
    private static double ControlPlaneCpuSeconds(int pid, bool withCompiler = true) =>
        ThreadCpu.Seconds(pid.ToString(CultureInfo.InvariantCulture), name => !DpdkBuildFacts.IsWorkerThread(name)
            && (withCompiler || !name.StartsWith(".NET Tiered Com", StringComparison.Ordinal)));
}
