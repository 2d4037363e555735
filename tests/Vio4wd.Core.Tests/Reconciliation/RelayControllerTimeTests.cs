using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using static Vio4wd.Core.Tests.Reconciliation.Harness;

namespace Vio4wd.Core.Tests.Reconciliation;

/// <summary>
/// The controller on a fake clock: backoff, periodic resync and event storms, driven by moving
/// time by hand and awaiting pass results; nothing sleeps. A relay that is not due is shown not
/// to have had a pass by a pass over another relay (the controller's one loop took it first).
/// </summary>
public class RelayControllerTimeTests
{
    private static readonly ControllerOptions Options = new()
    {
        BackoffBase = TimeSpan.FromSeconds(1),
        BackoffMax = TimeSpan.FromSeconds(4),
        ResyncPeriod = TimeSpan.FromSeconds(30),
    };

    private sealed class Clocked : IAsyncDisposable
    {
        private readonly Channel<PassResult> _results = Channel.CreateUnbounded<PassResult>();

        public Clocked()
        {
            H = new Harness(Options, Time);
            H.Results.Recorded += r => _results.Writer.TryWrite(r);
        }

        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));

        public Harness H { get; }

        /// <summary>The next pass over <paramref name="relay"/> (passes over others are skipped).</summary>
        public async Task<PassResult> NextAsync(int relay)
        {
            while (true)
            {
                PassResult result = await _results.Reader.ReadAsync().AsTask().WaitAsync(Patience);
                if (result.Relay == relay)
                {
                    return result;
                }
            }
        }

        /// <summary>Proves the loop has nothing due for other relays: a change of <paramref name="relay"/> gets its pass.</summary>
        public async Task BarrierAsync(int relay, string socket)
        {
            H.Desired.ReplaceSlice($"barrier {socket}", [new RelaySpec(relay, null, new VhostSocketSpec(socket, Core.Dataplane.VhostMode.Server))]);
            await NextAsync(relay);
        }

        public ValueTask DisposeAsync() => H.DisposeAsync();
    }

    [Test]
    public async Task A_failing_relay_is_retried_after_1_2_4_and_4_seconds_of_the_controllers_clock_and_not_before()
    {
        await using var c = new Clocked();
        c.H.Dataplane.Fail("attach", 4);
        c.H.Desired.ReplaceSlice("static", [Spec(0)]);
        PassResult first = await c.NextAsync(0);
        Assert.That((first.Outcome, first.Event?.Message), Is.EqualTo((PassOutcome.Failed, "attach on relay 0 failed (injected); retrying in 1000 ms")));
        int barrier = 10;
        foreach (int seconds in new[] { 1, 2, 4, 4 })
        {
            int attempts = c.H.Dataplane.AttemptsOn(0);
            c.Time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            await c.BarrierAsync(barrier, $"/tmp/barrier{barrier}.sock");
            Assert.That(c.H.Dataplane.AttemptsOn(0), Is.EqualTo(attempts), $"retried before {seconds} s");
            c.Time.Advance(TimeSpan.FromMilliseconds(1));
            PassResult retry = await c.NextAsync(0);
            Assert.That(c.H.Dataplane.AttemptsOn(0), Is.GreaterThan(attempts));
            if (retry.Failed)
            {
                Assert.That(retry.Event?.Message, Does.EndWith($"retrying in {Math.Min(seconds * 2, 4) * 1000} ms"));
            }

            barrier++;
        }

        PassResult last = c.H.Results.Last(0)!;
        Assert.Multiple(() =>
        {
            Assert.That(last.Outcome, Is.EqualTo(PassOutcome.Applied), "the fifth attempt attaches");
            Assert.That(c.H.Statuses.Get(0)?.LastError, Is.Null);
            Assert.That(c.H.Controller.Failures, Is.EqualTo(4));
        });
    }

    [Test]
    public async Task The_periodic_resync_comes_every_period_and_repairs_drift_and_touches_nothing_else()
    {
        await using var c = new Clocked();
        c.H.Desired.ReplaceSlice("static", [Spec(0), Spec(1)]);
        await c.NextAsync(0);
        await c.NextAsync(1);
        long resyncs = c.H.Controller.Resyncs;
        int untouched = c.H.Dataplane.CallsOn(1);

        // A quiet period: one resync, a pass over each relay, no change made.
        c.Time.Advance(Options.ResyncPeriod);
        PassResult quiet = await c.NextAsync(0);
        Assert.Multiple(() =>
        {
            Assert.That(c.H.Controller.Resyncs, Is.EqualTo(resyncs + 1));
            Assert.That((quiet.Outcome, quiet.Event), Is.EqualTo((PassOutcome.Applied, (RelayEvent?)null)), "nothing to change");
        });

        // The device goes away underneath without a word: the next resync finds and repairs it.
        c.H.Dataplane.DropDeviceSilently(0);
        c.Time.Advance(Options.ResyncPeriod);
        PassResult repaired = await c.NextAsync(0);
        Assert.Multiple(() =>
        {
            Assert.That(c.H.Controller.Resyncs, Is.EqualTo(resyncs + 2));
            Assert.That(repaired.Event?.Reason, Is.EqualTo("DriftRepaired"));
            Assert.That(c.H.Dataplane.Calls[0][^1], Is.EqualTo("attach"));
            Assert.That(c.H.Dataplane.CallsOn(1), Is.EqualTo(untouched), "relay 1 was never touched");
        });
    }

    [Test]
    public async Task An_event_storm_on_a_failing_relay_gets_no_pass_before_its_backoff_is_over()
    {
        await using var c = new Clocked();
        c.H.Desired.ReplaceSlice("static", [Spec(0)]);
        await c.NextAsync(0);
        c.H.Dataplane.Break(0, () => new Core.Dataplane.DataplaneException("attach", 5, "the VF is gone"));
        c.H.Dataplane.DropDeviceSilently(0);
        c.Time.Advance(Options.ResyncPeriod);
        Assert.That((await c.NextAsync(0)).Failed, Is.True);
        int attempts = c.H.Dataplane.AttemptsOn(0);

        for (int i = 0; i < 10_000; i++)
        {
            c.H.Dataplane.ToggleQueue(0, i % 2 == 0);
        }

        // The pump read them all (events are read in order): none brought the retry forward.
        c.H.Dataplane.ToggleQueue(7, true);
        await c.BarrierAsync(7, "/tmp/barrier7.sock");
        Assert.That(c.H.Dataplane.AttemptsOn(0), Is.EqualTo(attempts));
        c.H.Dataplane.Break(0, null);
        c.Time.Advance(Options.BackoffBase);
        Assert.That((await c.NextAsync(0)).Outcome, Is.EqualTo(PassOutcome.Applied));
        Assert.That(c.H.Dataplane.AttemptsOn(0), Is.EqualTo(attempts + 1), "one retry for ten thousand events");
    }

    [Test]
    public async Task A_storm_of_changes_to_one_relay_while_its_pass_runs_costs_one_more_pass_which_applies_the_last()
    {
        await using var c = new Clocked();
        c.H.Dataplane.Hold();
        c.H.Desired.ReplaceSlice("static", [Spec(0)]);
        await c.H.Dataplane.Held.WaitAsync(Patience);
        for (int cpu = 0; cpu < 1000; cpu++)
        {
            c.H.Desired.SetPinOverride(0, new CpuPins(cpu % 2 + 1, cpu % 2 + 1));
        }

        long last = c.H.Desired.GenerationOf(0);
        c.H.Dataplane.Release();
        PassResult first = await c.NextAsync(0);
        PassResult second = await c.NextAsync(0);
        Assert.Multiple(() =>
        {
            Assert.That(first.Generation, Is.EqualTo(1), "the pass that was running applied what it had read");
            Assert.That((second.Outcome, second.Generation), Is.EqualTo((PassOutcome.Applied, last)));
            Assert.That(c.H.Controller.Passes, Is.EqualTo(2), "a thousand changes, two passes");
            Assert.That(c.H.Statuses.Get(0)?.Spec?.Pins, Is.EqualTo(new CpuPins(2, 2)));
        });
    }
}
