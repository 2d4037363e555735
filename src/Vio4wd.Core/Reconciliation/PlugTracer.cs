namespace Vio4wd.Core.Reconciliation;

/// <summary>One step of a plug: what happened and when, in milliseconds after the input that asked for it.</summary>
public sealed record PlugStep(string Name, double AtMs);

/// <summary>
/// How one change of a relay's desired state went through the daemon, from the input that asked
/// for it (an OVSDB update, a ZMQ request, a file, a reload) to the pass that applied it, and for
/// OVSDB rows to the row saying so.
/// </summary>
/// <param name="Kind">
/// "plug" (the relay became Ready), "unplug" (a Ready relay stopped forwarding: its device or the
/// relay went) or "change" (anything else: pins, a relay still waiting for its VM); null while in progress.
/// </param>
/// <param name="Source">What asked for it: a source's name, or "pins".</param>
/// <param name="DoneMs">Milliseconds to the end of the pass that applied it; null while in progress.</param>
/// <param name="RowMs">Milliseconds until OVSDB acknowledged the row's new state; null when not (yet) written.</param>
public sealed record PlugTrace(string? Kind, string Source, DateTimeOffset Started, IReadOnlyList<PlugStep> Steps, double? DoneMs, double? RowMs)
{
    /// <summary>The step that took longest since the one before it.</summary>
    public (string Name, double Ms)? Slowest =>
        Steps.Count < 2 ? null
        : Steps.Skip(1).Select((s, i) => (s.Name, Ms: s.AtMs - Steps[i].AtMs)).MaxBy(s => s.Ms);
}

/// <summary>A trace in one line: each step with the milliseconds it took since the one before.</summary>
public static class PlugTraceText
{
    public static string Steps(PlugTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < trace.Steps.Count; i++)
        {
            PlugStep step = trace.Steps[i];
            text.Append(i == 0 ? "" : ", ").Append(step.Name);
            if (i > 0)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $" +{step.AtMs - trace.Steps[i - 1].AtMs:0.00}");
            }
        }

        if (trace.Slowest is { } slowest)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $" (slowest: {slowest.Name}, {slowest.Ms:0.00} ms)");
        }

        return text.ToString();
    }
}

/// <summary>
/// Follows each change of a relay's desired state step by step with monotonic timestamps, so
/// what makes a plug slow can be seen (debug log, <c>vio4wdctl describe</c>, a metric): the
/// desired state store starts a trace, the reconciler marks its queueing, passes and dataplane
/// calls, the status marks Ready, a source marks its write-back. Each relay keeps its last trace.
/// It follows the controller as one of its observers.
/// </summary>
public sealed class PlugTracer(TimeProvider? time = null) : IReconcileObserver
{
    // A trace that never completes (a VM that never comes) stops growing here.
    private const int MaxSteps = 48;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Trace> _traces = [];

    /// <summary>Raised when a trace reaches Ready (plug, change) or the relay is down (unplug).</summary>
    public event Action<int, PlugTrace>? Completed;

    /// <summary>Raised when a source's record of the relay (an OVSDB row) says so too.</summary>
    public event Action<int, PlugTrace>? RowCompleted;

    /// <summary>
    /// Starts a relay's trace: its desired state changed to <paramref name="generation"/> (removals
    /// count too), asked for by <paramref name="source"/> with an input that
    /// arrived at <paramref name="inputAt"/> (a <see cref="TimeProvider.GetTimestamp"/> value).
    /// </summary>
    public void Begin(int relay, long generation, bool wasReady, string source, long? inputAt)
    {
        long now = _time.GetTimestamp();
        long origin = Math.Min(inputAt ?? now, now);
        var trace = new Trace(source, _time.GetUtcNow() - _time.GetElapsedTime(origin, now), origin, generation, wasReady);
        trace.Add("input received", origin);
        trace.Add("desired state changed", now);
        lock (_lock)
        {
            _traces[relay] = trace;
        }
    }

    /// <summary>Marks a step of the relay's open trace (nothing when none is open).</summary>
    public void Mark(int relay, string step)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_traces.TryGetValue(relay, out Trace? trace) && trace.Kind is null)
            {
                trace.Add(step, now);
            }
        }
    }

    /// <summary>A pass applied <paramref name="generation"/> and left the relay Ready or not: the trace of that generation completes.</summary>
    public void Applied(int relay, long generation, bool ready)
    {
        long now = _time.GetTimestamp();
        PlugTrace? done = null;
        lock (_lock)
        {
            if (_traces.TryGetValue(relay, out Trace? trace) && trace.Kind is null && trace.Generation == generation)
            {
                trace.Kind = ready == trace.WasReady ? "change" : ready ? "plug" : "unplug";
                trace.Add(ready ? "ready" : "applied", now);
                trace.DoneAt = now;
                done = trace.View(_time);
            }
        }

        if (done is not null)
        {
            Completed?.Invoke(relay, done);
        }
    }

    /// <summary>A source wrote a plugged relay's Ready state to its record (sent) or had it acknowledged.</summary>
    public void Row(int relay, bool acknowledged)
    {
        long now = _time.GetTimestamp();
        PlugTrace? done = null;
        lock (_lock)
        {
            if (_traces.TryGetValue(relay, out Trace? trace) && trace.Kind == "plug" && trace.RowAt is null)
            {
                trace.Add(acknowledged ? "row acknowledged" : "row written", now);
                if (acknowledged)
                {
                    trace.RowAt = now;
                    done = trace.View(_time);
                }
            }
        }

        if (done is not null)
        {
            RowCompleted?.Invoke(relay, done);
        }
    }

    /// <summary>The relay's last trace, open or complete.</summary>
    public PlugTrace? Last(int relay)
    {
        lock (_lock)
        {
            return _traces.TryGetValue(relay, out Trace? trace) ? trace.View(_time) : null;
        }
    }

    void IReconcileObserver.Queued(int relay, long generation, bool wasReady, Relays.DesiredChange change) =>
        Begin(relay, generation, wasReady, change.Cause, change.InputAt);

    void IReconcileObserver.Stepped(int relay, string name) => Mark(relay, name);

    void IReconcileObserver.PassCompleted(PassResult result)
    {
        if (!result.Failed)
        {
            Applied(result.Relay, result.Generation, result.Ready);
        }
    }

    private sealed class Trace(string source, DateTimeOffset started, long origin, long generation, bool wasReady)
    {
        private readonly List<(string Name, long At)> _steps = [];

        public long Generation { get; } = generation;

        public bool WasReady { get; } = wasReady;

        public string? Kind { get; set; }

        public long? DoneAt { get; set; }

        public long? RowAt { get; set; }

        public void Add(string name, long at)
        {
            if (_steps.Count < MaxSteps)
            {
                _steps.Add((name, at));
            }
        }

        public PlugTrace View(TimeProvider time)
        {
            double Ms(long at) => time.GetElapsedTime(origin, at).TotalMilliseconds;
            return new PlugTrace(Kind, source, started, [.. _steps.Select(s => new PlugStep(s.Name, Ms(s.At)))],
                DoneAt is { } done ? Ms(done) : null, RowAt is { } row ? Ms(row) : null);
        }
    }
}
