using Microsoft.Extensions.Time.Testing;
using Vio4wd.Testing;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;

using static Vio4wd.Core.Tests.Reconciliation.Harness;

namespace Vio4wd.Core.Tests.Reconciliation;

public class RelayControllerTests
{
    [Test]
    public async Task From_nothing_it_creates_every_desired_relay_with_one_call_per_side()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1), Spec(2)]);
        await h.ConvergedAsync("three relays");
        Assert.Multiple(() =>
        {
            for (int id = 0; id < 3; id++)
            {
                Assert.That(h.Dataplane.Calls[id], Is.EqualTo(new[] { "register", "attach" }), $"relay {id}");
                RelayStatus status = h.Statuses.Get(id)!;
                Assert.That(status.Source, Is.EqualTo("static"));
                Assert.That(status.Conditions.Single(c => c.Type == ConditionTypes.DeviceReady).Status, Is.EqualTo("True"));
                Assert.That(status.Conditions.Single(c => c.Type == ConditionTypes.VhostConnected).Reason, Is.EqualTo("WaitingForVm"));
                Assert.That(status.Ready, Is.False, "no VM yet");
            }
        });
    }

    [Test]
    public async Task A_relay_whose_spec_did_not_change_is_never_touched_by_changes_elsewhere_or_resyncs()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1)]);
        await h.ConvergedAsync("two relays");
        int before = h.Dataplane.CallsOn(0);

        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1, device: "net_null_other"), Spec(5)]);
        await h.ConvergedAsync("relay 1 changed, relay 5 added");
        // A resync looks at every relay again (periodic ones: RelayControllerTimeTests).
        long passes = h.Controller.Passes;
        await h.Controller.ResyncAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => h.Controller.Passes >= passes + 3, "a pass over each of the three relays", Patience);

        Assert.Multiple(() =>
        {
            Assert.That(h.Dataplane.CallsOn(0), Is.EqualTo(before), "relay 0 untouched");
            Assert.That(h.Dataplane.Calls[1], Is.EqualTo(new[] { "register", "attach", "detach", "attach" }), "only relay 1's device changed");
            Assert.That(h.Statuses.Get(1)!.Generation, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Removing_a_relay_from_the_desired_state_takes_it_down_and_drops_its_status()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1)]);
        await h.ConvergedAsync("two relays");
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 1 removed");
        Assert.Multiple(() =>
        {
            Assert.That(h.Dataplane.Calls[1], Is.EqualTo(new[] { "register", "attach", "unregister", "detach" }));
            Assert.That(h.Statuses.Get(1), Is.Null);
        });
    }

    [Test]
    public async Task Failures_are_retried_with_growing_backoff_and_reported_until_it_converges()
    {
        await using var h = new Harness();
        h.Dataplane.Fail("attach", 4);
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 0 despite four failed attaches");
        RelayStatus status = h.Statuses.Get(0)!;
        double[] delays = [.. status.Events.Where(e => e.Reason == "ReconcileFailed")
            .Select(e => double.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"retrying in (\d+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Multiple(() =>
        {
            Assert.That(delays, Is.EqualTo(new double[] { 10, 20, 40, 80 }), "exponential backoff per relay");
            Assert.That(status.Events.Last(e => e.Reason == "ReconcileFailed").Message, Does.Contain("attach on relay 0 failed (injected)"));
            Assert.That(status.LastError, Is.Null, "cleared once it succeeded");
            Assert.That(status.Conditions.Single(c => c.Type == ConditionTypes.DeviceReady).Status, Is.EqualTo("True"));
        });
    }

    [Test]
    public async Task While_a_relay_keeps_failing_its_Ready_condition_says_Error_with_the_message()
    {
        await using var h = new Harness(new ControllerOptions { BackoffBase = TimeSpan.FromSeconds(5), ResyncPeriod = TimeSpan.FromMinutes(1) });
        h.Dataplane.Fail("attach", 1);
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await Eventually.UntilAsync(() => !(h.Statuses.Get(0)?.LastError is null), "the failure is recorded", Patience);

        Condition ready = h.Statuses.Get(0)!.Conditions.Single(c => c.Type == ConditionTypes.Ready);
        Assert.That((ready.Status, ready.Reason, ready.Message), Is.EqualTo(("False", "Error", "attach on relay 0 failed (injected)")));
    }

    [Test]
    public async Task Drift_is_repaired_and_recorded()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1)]);
        await h.ConvergedAsync("two relays");
        h.Dataplane.DropDevice(0);
        await h.ConvergedAsync("relay 0's device restored");
        Assert.Multiple(() =>
        {
            Assert.That(h.Dataplane.Calls[0], Is.EqualTo(new[] { "register", "attach", "attach" }));
            Assert.That(h.Statuses.Get(0)!.Events[^1].Reason, Is.EqualTo("DriftRepaired"));
            Assert.That(h.Statuses.Get(0)!.Events[^1].Type, Is.EqualTo("Warning"));
        });
    }

    [Test]
    public async Task After_a_dataplane_restart_the_periodic_resync_puts_everything_back()
    {
        // The resync is the only thing that notices (a restart says nothing): on a fake clock.
        var time = new FakeTimeProvider();
        var options = new ControllerOptions { ResyncPeriod = TimeSpan.FromSeconds(30) };
        await using var h = new Harness(options, time);
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1), Spec(2, pins: new CpuPins(1, 2))]);
        await h.ConvergedAsync("three relays");
        h.Dataplane.Restart();
        Assert.That(await h.Dataplane.ListRelaysAsync(), Is.Empty, "the restart took everything");
        time.Advance(options.ResyncPeriod);
        await h.ConvergedAsync("everything back");
        RelayState pinned = await h.Dataplane.GetRelayAsync(2);
        Assert.That((pinned.VfToVm.PinnedCpu, pinned.VmToVf.PinnedCpu), Is.EqualTo(((int?)1, (int?)2)));
    }

    [Test]
    public async Task A_relay_becomes_ready_when_its_vm_connects()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 0");
        h.Dataplane.ConnectVm(0);
        await Eventually.UntilAsync(() => !(h.Statuses.Get(0)?.Ready != true), "Ready after the VM connected", Patience);

        Condition ready = h.Statuses.Get(0)!.Conditions.Single(c => c.Type == ConditionTypes.Ready);
        Assert.That((ready.Reason, ready.ObservedGeneration), Is.EqualTo(("Forwarding", 1L)));
    }

    [Test]
    public async Task Two_sources_asking_for_one_relay_leave_the_first_claim_untouched_and_the_later_one_gets_nothing()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 0 from static");
        int callsOnZero = h.Dataplane.CallsOn(0);
        h.Desired.ReplaceSlice("ovsdb", [Spec(0, device: "0000:03:00.1"), Spec(1, device: "net_null0")]);
        await h.ConvergedAsync("after the refused claims");

        RelayState zero = await h.Dataplane.GetRelayAsync(0);
        Assert.Multiple(() =>
        {
            Assert.That(zero.Device.Devices, Is.EqualTo(new[] { "net_null0" }), "static claimed relay 0 first and keeps it");
            Assert.That(h.Dataplane.CallsOn(0), Is.EqualTo(callsOnZero), "the holder is not touched");
            Assert.That(h.Dataplane.CallsOn(1), Is.Zero, "relay 1 asked for the device relay 0 owns: nothing is made of it");
            Assert.That(h.Desired.Refusals.Select(r => r.Reason), Is.EqualTo(new[]
            {
                "relay 0 is already used by relay 0 (static)",
                "device net_null0 is already used by relay 0: relay 0 (static)",
            }));
        });
    }

    [Test]
    public async Task A_relay_failing_with_any_exception_is_retried_with_backoff_while_the_others_converge()
    {
        await using var h = new Harness();
        h.Dataplane.Break(1, () => new InvalidOperationException("a defect in the binding"));
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1), Spec(2)]);
        await Eventually.UntilAsync(() => !(h.Statuses.Get(0)?.ObservedGeneration != 1 || h.Statuses.Get(2)?.ObservedGeneration != 1 || h.Dataplane.AttemptsOn(1) < 3), "relays 0 and 2 converge and relay 1 is retried", Patience);

        Assert.That(h.Statuses.Get(1)!.LastError, Is.EqualTo("InvalidOperationException: a defect in the binding"));
        h.Dataplane.Break(1, null);
        await h.ConvergedAsync("relay 1 once it stops failing");

        // The reconciler is still there for new work.
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1), Spec(2), Spec(3)]);
        await h.ConvergedAsync("relay 3 added after the failures");
    }

    [Test]
    public async Task The_event_pump_reports_the_end_of_the_dataplanes_events_as_a_dataplane_failure()
    {
        var dataplane = new FakeDataplane();
        using var controller = new RelayController(new DataplaneHandle(dataplane), new DesiredStateStore(), new RelayStatusStore(), new PassResults());
        dataplane.EndEvents();
        Assert.That(async () => await controller.PumpEventsAsync(CancellationToken.None), Throws.TypeOf<DataplaneFailedException>());
    }

    [Test]
    public async Task A_removed_device_is_attached_again_once_it_is_back()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 0");
        h.Dataplane.Fail("attach", 3); // the VF is away for three attempts
        h.Dataplane.RemoveDevice(0);
        await Eventually.UntilAsync(async () => (await h.Dataplane.GetRelayAsync(0)).Device is { Attached: true, Failed: false }, "relay 0's device back", Patience);
        Assert.Multiple(() =>
        {
            Assert.That(h.Dataplane.Calls[0], Is.EqualTo(new[] { "register", "attach", "detach", "attach" }), "taken down once, attached when it could be");
            Assert.That(h.Statuses.Get(0)!.Events.Select(e => e.Message), Is.SupersetOf(new[] { "device (port 0) reported its removal", "attached net_null0" }));
        });
    }
}
