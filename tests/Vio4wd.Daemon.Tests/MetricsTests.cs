using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// VIRTIOFWD_METRICS_ADDRESS end to end: a real Prometheus server scrapes the daemon while a
/// testpmd VM takes traffic through a relay, and /healthz and /readyz answer as the kubelet asks.
/// </summary>
[NonParallelizable]
public class MetricsTests() : DaemonTest("metrics")
{
    [Test]
    public async Task A_real_prometheus_sees_forwarded_packets_rise_and_the_vm_condition_flip()
    {
        using var sockets = new TempDirectory();
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        int port = PrometheusServer.FreePort();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "-P", "net_null0=0", "-O", ovsdb.Endpoint,
            "--metrics-address", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefixes.Next("daemon")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        await daemon.WaitForOutputAsync($"Metrics and health on http://127.0.0.1:{port}", Patience);
        await using PrometheusServer prometheus = await PrometheusServer.StartAsync("vio4wd", [$"127.0.0.1:{port}"], Patience);

        const string Forwarded = "vio4wd_relay_tx_packets_total{relay=\"0\",direction=\"vf_to_vm\"}";
        const string VmCondition = "vio4wd_relay_condition{relay=\"0\",condition=\"VhostConnected\"}";
        await using (var vm = Testpmd.Start([$"net_virtio_user0,path={sockets.File("virtio-forwarder0.sock")}"], ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"]))
        {
            await daemon.WaitForOutputAsync("relay 0: VM connected", Patience);
            double first = (await Eventually.HoldsAsync(() => prometheus.ValueAsync(Forwarded), v => v > 0, Patience, "forwarded packets in Prometheus"))!.Value;
            await Eventually.HoldsAsync(() => prometheus.ValueAsync(Forwarded), v => v > first, Patience, $"forwarded packets to rise above {first}");
            await Eventually.HoldsAsync(() => prometheus.ValueAsync(VmCondition), v => v == 1, Patience, "VhostConnected = 1 while the VM is there");
        }

        var gone = await Eventually.HoldsAsync(() => prometheus.QueryAsync(VmCondition), r => r is [var only] && only.Value == 0, Patience, "VhostConnected = 0 once the VM went");
        Assert.Multiple(async () =>
        {
            Assert.That(gone[0].Labels["reason"], Is.Not.Empty, "the condition says why");
            Assert.That(await prometheus.ValueAsync("up{job=\"vio4wd\"}"), Is.EqualTo(1));
            Assert.That(await prometheus.ValueAsync("vio4wd_ready"), Is.EqualTo(1));
            Assert.That(await prometheus.ValueAsync("vio4wd_device_rx_packets_total{relay=\"0\"}"), Is.GreaterThan(0));
            Assert.That(await prometheus.ValueAsync("sum(vio4wd_worker_packets_total)"), Is.GreaterThan(0));
            Assert.That(await prometheus.ValueAsync("vio4wd_reconcile_passes_total"), Is.GreaterThan(0));
            Assert.That(await prometheus.ValueAsync("vio4wd_part_up{part=\"ovsdb\"}"), Is.EqualTo(1));
            Assert.That(await prometheus.ValueAsync("vio4wd_relay_info{relay=\"0\",device=\"net_null0\",source=\"static\"}"), Is.EqualTo(1));
            Assert.That((await prometheus.QueryAsync("vio4wd_build_info"))[0].Labels["dpdk_version"], Does.StartWith("DPDK"));
        });

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        string metrics = await http.GetStringAsync("metrics");
        string file = sockets.File("scrape.txt");
        await File.WriteAllTextAsync(file, metrics);
        (int lint, string lintOut, string lintErr) = await Command.RunAsync(Patience, "sh", "-c", $"promtool check metrics < '{file}'");
        Assert.That((lint, lintOut + lintErr), Is.EqualTo((0, string.Empty)), "promtool finds nothing to say about the names, units and help");

        // The Grafana dashboard: every query is valid PromQL to this Prometheus, on metrics the daemon has.
        using (JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DaemonProcess.RepoRoot, "charts", "vio4wd", "grafana-dashboard.json"))))
        {
            string[] queries = [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
                .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!)];
            Assert.That(queries, Has.Length.GreaterThan(10));
            foreach (string query in queries)
            {
                await prometheus.QueryAsync(query.Replace("$instance", ".*", StringComparison.Ordinal).Replace("$__rate_interval", "1m", StringComparison.Ordinal));
                foreach (string name in Regex.Matches(query, @"vio4wd_\w+").Select(m => m.Value))
                {
                    Assert.That(metrics, Does.Contain($"\n{name}{{").Or.Contain($"\n{name} "), $"the dashboard's {name} is a metric the daemon serves");
                }
            }
        }

        using HttpResponseMessage healthz = await http.GetAsync("healthz");
        using HttpResponseMessage readyz = await http.GetAsync("readyz");
        Assert.Multiple(async () =>
        {
            Assert.That(healthz.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await healthz.Content.ReadAsStringAsync(), Does.Contain("[+]reconcile-loop ok").And.EndWith("healthz check passed\n"));
            Assert.That(readyz.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await readyz.Content.ReadAsStringAsync(), Does.Contain("[+]source/ovsdb ok").And.EndWith("readyz check passed\n"));
            Assert.That((await http.GetAsync("debug")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nothing else is served");
        });

        // OVSDB goes away: still alive (a restart would not bring it back), no longer ready.
        ovsdb.Kill();
        await Eventually.HoldsAsync(async () => (await http.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.ServiceUnavailable, Patience, "readyz 503 without OVSDB");
        Assert.That((await http.GetAsync("healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        (int code, string health, _) = await Vioctl.RunAsync("health");
        Assert.That(code, Is.EqualTo(1), health);
        Assert.That(health, Does.Contain("[-]source/ovsdb failed").And.Contain("live: yes").And.EndWith("ready: no\n"));
        Assert.That((await Vioctl.RunAsync("health", "--live")).Code, Is.Zero, "alive without its peer");
    }

    [Test]
    public async Task A_metrics_address_in_use_faults_only_the_metrics_part_and_relays_come_up()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var sockets = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets.Path, "-P", "net_null0=0",
            "--metrics-address", $"127.0.0.1:{port}", "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefixes.Next("daemon")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        await daemon.WaitForOutputAsync("metrics failed: IOException: Failed to bind to address", Patience);
        var metrics = await Eventually.HoldsAsync(
            async () => (await Vioctl.JsonAsync("daemon")).GetProperty("parts").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "metrics"),
            p => p.GetProperty("state").GetString() is "Faulted" or "Starting", Patience, "the metrics part faulted");
        Assert.That(metrics.GetProperty("lastError").GetString(), Does.Contain("address already in use"));
        Assert.That(Vioctl.Condition(await Vioctl.RelayAsync(0), "DeviceReady"), Is.EqualTo("True"), "relays do not wait for the listener");

        // Once the port is free the part's own retry brings the listener up.
        taken.Stop();
        await daemon.WaitForOutputAsync($"Metrics and health on http://127.0.0.1:{port}", Patience);
        using var http = new HttpClient();
        Assert.That(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"), Does.Contain("vio4wd_relay_info{relay=\"0\""));
    }
}
