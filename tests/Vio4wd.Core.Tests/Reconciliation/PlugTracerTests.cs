using System.Diagnostics;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Testing;

using static Vio4wd.Core.Tests.Reconciliation.Harness;

namespace Vio4wd.Core.Tests.Reconciliation;

public class PlugTracerTests
{
    [Test]
    public async Task A_plug_is_traced_from_its_input_through_queue_pass_and_dataplane_calls_to_ready_and_its_row()
    {
        await using var h = new Harness();
        var completed = new List<PlugTrace>();
        h.Plugs.Completed += (_, t) => completed.Add(t);
        // The VM is there first, so the device makes the relay Ready.
        h.Desired.ReplaceSlice("ovsdb", [Spec(0) with { Device = null }]);
        await h.ConvergedAsync("the socket");
        h.Dataplane.ConnectVm(0);
        await Eventually.UntilAsync(() => h.Statuses.Get(0)?.Conditions.Any(c => c.Type == ConditionTypes.VhostConnected && c.Status == "True") == true, "the VM seen", Patience);

        long input = Stopwatch.GetTimestamp() - Stopwatch.Frequency / 100; // arrived 10 ms ago
        h.Desired.ReplaceSlice("ovsdb", [Spec(0)], input);
        await Eventually.UntilAsync(() => h.Plugs.Last(0)?.Kind == "plug", "the plug's trace complete", Patience);
        h.Plugs.Row(0, acknowledged: false);
        h.Plugs.Row(0, acknowledged: true);

        PlugTrace trace = h.Plugs.Last(0)!;
        string[] names = [.. trace.Steps.Select(s => s.Name)];
        Assert.Multiple(() =>
        {
            Assert.That(trace.Source, Is.EqualTo("ovsdb"));
            Assert.That(names, Is.EqualTo(new[]
            {
                "input received", "desired state changed", "queued", "dequeued", "pass started", "live state read",
                "device attached", "live state read", "ready", "row written", "row acknowledged",
            }));
            Assert.That(trace.Steps[0].AtMs, Is.Zero);
            Assert.That(trace.Steps[1].AtMs, Is.GreaterThanOrEqualTo(10), "timed from the input, not from when the store heard of it");
            Assert.That(trace.Steps.Select(s => s.AtMs), Is.Ordered);
            Assert.That(trace.DoneMs, Is.EqualTo(trace.Steps[8].AtMs));
            Assert.That(trace.RowMs, Is.EqualTo(trace.Steps[10].AtMs));
            // The slowest step is the longest gap (the 10 ms before the store heard of it, or the test's
            // own wait before it marked the row).
            (string Name, double Ms) slowest = trace.Steps.Skip(1).Select((s, i) => (s.Name, s.AtMs - trace.Steps[i].AtMs)).MaxBy(g => g.Item2);
            Assert.That(trace.Slowest, Is.EqualTo(slowest));
            Assert.That(slowest.Ms, Is.GreaterThanOrEqualTo(10));
            Assert.That(completed.Select(t => t.Kind), Is.EqualTo(new[] { "change", "plug" }), "the socket alone was a change: no Ready");
            Assert.That(PlugTraceText.Steps(trace), Does.Match(@"^input received, desired state changed \+\d+\.\d\d, queued \+").And.Contain($"(slowest: {slowest.Name}, "));
        });
    }

    [Test]
    public async Task An_unplug_of_a_ready_relay_ends_when_its_device_is_detached_and_a_failed_pass_shows_in_the_trace()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("ovsdb", [Spec(0)]);
        await h.ConvergedAsync("relay 0");
        h.Dataplane.ConnectVm(0);
        await Eventually.UntilAsync(() => h.Statuses.Get(0)?.Ready == true, "relay 0 ready", Patience);

        h.Dataplane.Fail("detach", 1);
        h.Desired.ReplaceSlice("ovsdb", [Spec(0) with { Device = null }]);
        await Eventually.UntilAsync(() => h.Plugs.Last(0)?.Kind == "unplug", "the unplug's trace complete", Patience);
        PlugTrace trace = h.Plugs.Last(0)!;
        h.Plugs.Row(0, acknowledged: true);
        Assert.Multiple(() =>
        {
            Assert.That(trace.Steps.Select(s => s.Name), Is.SupersetOf(new[] { "pass failed", "device detached", "applied" }));
            Assert.That(trace.Steps[^1].Name, Is.EqualTo("applied"));
            Assert.That(h.Plugs.Last(0)!.RowMs, Is.Null, "only a plug's row is traced");
        });
    }

    [Test]
    public async Task A_pass_that_read_the_desired_state_before_a_newer_change_does_not_complete_the_newer_trace()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("ovsdb", [Spec(0)]);
        await h.ConvergedAsync("relay 0");
        long generation = h.Desired.Get(0)!.Generation;
        h.Plugs.Begin(0, generation + 1, wasReady: false, "ovsdb", null);
        h.Plugs.Applied(0, generation, ready: true);
        Assert.That(h.Plugs.Last(0)!.Kind, Is.Null, "still open: the pass applied the generation before");
        h.Plugs.Applied(0, generation + 1, ready: true);
        Assert.That(h.Plugs.Last(0)!.Kind, Is.EqualTo("plug"));
    }
}
