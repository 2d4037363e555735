using Microsoft.Extensions.Time.Testing;
using Vio4wd.Core.Health;

namespace Vio4wd.Api.Tests;

/// <summary>What /healthz and /readyz decide: a lost peer is not-ready, never dead.</summary>
public class DaemonHealthTests
{
    [Test]
    public void A_source_without_its_peer_makes_the_daemon_unready_but_not_dead()
    {
        var parts = new DaemonParts();
        parts.Register("reconciler", "core");
        parts.Report("reconciler", PartState.Running);
        parts.Register("ovsdb", "source");
        parts.Report("ovsdb", PartState.Connecting, "unix:/run/db.sock");
        var health = new DaemonHealth(parts, () => true, () => null, TimeSpan.FromSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(health.Liveness().Ok, Is.True);
            HealthReport ready = health.Readiness();
            Assert.That(ready.Ok, Is.False);
            Assert.That(ready.Text("readyz"), Does.Contain("[-]source/ovsdb failed: connecting (unix:/run/db.sock)\n").And.EndWith("readyz check failed\n"));
        });

        parts.Report("ovsdb", PartState.Connected);
        Assert.That(health.Readiness().Ok, Is.True);
    }

    [Test]
    public void A_faulted_core_part_is_dead_and_a_daemon_before_its_first_pass_is_not_ready()
    {
        var time = new FakeTimeProvider();
        var parts = new DaemonParts(time);
        parts.Register("events", "core");
        parts.Faulted("events", "the dataplane's event queue ended");
        bool firstPass = false;
        var health = new DaemonHealth(parts, () => firstPass, () => null, TimeSpan.FromSeconds(30), time);
        Assert.Multiple(() =>
        {
            Assert.That(health.Liveness().Text("healthz"), Does.Contain("[-]events failed: faulted since").And.Contain("the dataplane's event queue ended"));
            Assert.That(health.Readiness().Text("readyz"), Does.Contain("[-]first-pass failed"));
        });
    }
}
