using Vio4wd.Contracts;
using System.Text;
using Vio4wd.Api.Metrics;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Tests.Reconciliation;

namespace Vio4wd.Api.Tests;

/// <summary>The exposition a scrape produces, from a fake dataplane: values, and series that go with their relay.</summary>
public class DaemonMetricsTests
{
    private static async Task<string> ScrapeAsync(DaemonMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static DaemonMetrics MetricsOf(FakeDataplane dataplane, RelayStatusStore? statuses = null, DaemonParts? parts = null) =>
        new(new MetricsInputs(() => dataplane, statuses ?? new RelayStatusStore(), parts ?? new DaemonParts(), () => true, () => null, "0.1.0", "DPDK 22.11.11"));

    [Test]
    public async Task Relay_counters_are_series_labelled_by_relay_and_direction_and_go_with_their_relay()
    {
        var dataplane = new FakeDataplane();
        await dataplane.RegisterSocketAsync(3, "/tmp/s3.sock", VhostMode.Server);
        await dataplane.AttachDeviceAsync(3, DeviceAttachment.Of("net_null0"));
        dataplane.ConnectVm(3);
        dataplane.AddTraffic(3, 1000);
        using DaemonMetrics metrics = MetricsOf(dataplane);

        string first = await ScrapeAsync(metrics);
        Assert.Multiple(() =>
        {
            Assert.That(first, Does.Contain("vio4wd_relay_tx_packets_total{relay=\"3\",direction=\"vf_to_vm\"} 1000\n"));
            Assert.That(first, Does.Contain("vio4wd_relay_tx_bytes_total{relay=\"3\",direction=\"vf_to_vm\"} 100000\n"));
            Assert.That(first, Does.Contain("vio4wd_relay_dropped_packets_total{relay=\"3\",direction=\"vm_to_vf\",cause=\"invalid\"} 0\n"), "a zero counter is a series");
            Assert.That(first, Does.Contain("vio4wd_relay_queue_pairs{relay=\"3\"} 1\n"));
            Assert.That(first, Does.Contain("vio4wd_build_info{version=\"0.1.0\",dpdk_version=\"DPDK 22.11.11\"} 1\n"));
            Assert.That(first, Does.Not.Contain("net_null0"), "device strings only in vio4wd_relay_info, from the statuses");
        });

        dataplane.AddTraffic(3, 500);
        Assert.That(await ScrapeAsync(metrics), Does.Contain("vio4wd_relay_tx_packets_total{relay=\"3\",direction=\"vf_to_vm\"} 1500\n"));

        // The relay goes: its series go with it, not left at their last value.
        await dataplane.DetachDeviceAsync(3);
        await dataplane.UnregisterSocketAsync(3);
        Assert.That(await ScrapeAsync(metrics), Does.Not.Contain("relay=\"3\""));

        // The same id again: its series are back with what the dataplane counts.
        await dataplane.RegisterSocketAsync(3, "/tmp/s3.sock", VhostMode.Server);
        dataplane.AddTraffic(3, 7);
        ulong counted = (await dataplane.GetRelayAsync(3)).VfToVmStats.TxPackets;
        Assert.That(await ScrapeAsync(metrics), Does.Contain($"vio4wd_relay_tx_packets_total{{relay=\"3\",direction=\"vf_to_vm\"}} {counted}\n"));
    }

    [Test]
    public async Task A_relay_id_reused_between_two_scrapes_reads_as_a_counter_reset()
    {
        var dataplane = new FakeDataplane();
        await dataplane.RegisterSocketAsync(0, "/tmp/s0.sock", VhostMode.Server);
        dataplane.AddTraffic(0, 900);
        using DaemonMetrics metrics = MetricsOf(dataplane);
        await ScrapeAsync(metrics);

        dataplane.Restart();
        await dataplane.RegisterSocketAsync(0, "/tmp/s0.sock", VhostMode.Server);
        dataplane.AddTraffic(0, 5);
        Assert.That(await ScrapeAsync(metrics), Does.Contain("vio4wd_relay_tx_packets_total{relay=\"0\",direction=\"vf_to_vm\"} 5\n"));
    }

    [Test]
    public async Task A_condition_is_one_series_whose_reason_label_follows_the_relay()
    {
        var dataplane = new FakeDataplane();
        var statuses = new RelayStatusStore();
        DateTimeOffset now = DateTimeOffset.UnixEpoch;
        statuses.Update(1, s => s.WithCondition(ConditionTypes.VhostConnected, false, "WaitingForVm", "no VM yet", now));
        using DaemonMetrics metrics = MetricsOf(dataplane, statuses);
        Assert.That(await ScrapeAsync(metrics), Does.Contain("vio4wd_relay_condition{relay=\"1\",condition=\"VhostConnected\",reason=\"WaitingForVm\"} 0\n"));

        statuses.Update(1, s => s.WithCondition(ConditionTypes.VhostConnected, true, "Connected", "VM connected", now));
        string scrape = await ScrapeAsync(metrics);
        Assert.That(scrape, Does.Contain("vio4wd_relay_condition{relay=\"1\",condition=\"VhostConnected\",reason=\"Connected\"} 1\n"));
        Assert.That(scrape, Does.Not.Contain("WaitingForVm"), "the old reason's series is gone");
    }

    [Test]
    public async Task Parts_are_up_when_connected_serving_or_running_and_sources_tell_their_last_sync()
    {
        var parts = new DaemonParts();
        parts.Register("ovsdb", "source");
        parts.Report("ovsdb", PartState.Connecting, "unix:/run/db.sock");
        parts.Register("static", "source");
        parts.Report("static", PartState.Running);
        parts.Synced("static");
        using DaemonMetrics metrics = MetricsOf(new FakeDataplane(), parts: parts);
        string scrape = await ScrapeAsync(metrics);
        Assert.Multiple(() =>
        {
            Assert.That(scrape, Does.Contain("vio4wd_part_up{part=\"ovsdb\",kind=\"source\",state=\"connecting\"} 0\n"));
            Assert.That(scrape, Does.Contain("vio4wd_part_up{part=\"static\",kind=\"source\",state=\"running\"} 1\n"));
            Assert.That(scrape, Does.Match("vio4wd_source_last_sync_age_seconds\\{source=\"static\"\\} [0-9.e-]+\n"));
            Assert.That(scrape, Does.Not.Contain("vio4wd_source_last_sync_age_seconds{source=\"ovsdb\"}"), "never synced: no age");
        });
    }
}
