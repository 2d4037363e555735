using Prometheus;

namespace Vio4wd.Api.Metrics;

/// <summary>
/// One labelled metric refreshed from a snapshot at each scrape: the series of this snapshot are
/// set, and series of relays, CPUs or reasons that are gone are removed, so a deleted relay or a
/// condition whose reason changed does not linger as a stale series.
/// </summary>
/// <param name="current">For counters: the series' value, to notice a counter that went back (a relay id reused).</param>
internal sealed class LabelledSeries<TChild>(Collector<TChild> metric, Action<TChild, double> set, Func<TChild, double>? current = null) : ISweepable
    where TChild : ChildBase
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public void Set(double value, params string[] labels)
    {
        TChild child = metric.WithLabels(labels);
        if (current is not null && value < current(child))
        {
            // A counter starts again (the relay was removed and added between two scrapes): a new
            // series, which Prometheus' rate() reads as a counter reset.
            metric.RemoveLabelled(labels);
            child = metric.WithLabels(labels);
        }

        set(child, value);
        // A counter at 0 is a series too: "no drops" must be visible, not absent.
        child.Publish();
        _seen.Add(Key(labels));
    }

    /// <summary>Ends a snapshot: removes every series this snapshot did not set.</summary>
    public void Sweep()
    {
        foreach (string[] labels in metric.GetAllLabelValues().ToList())
        {
            if (!_seen.Contains(Key(labels)))
            {
                metric.RemoveLabelled(labels);
            }
        }

        _seen.Clear();
    }

    // Label values never hold a NUL (relay ids, CPU numbers, reasons, device strings).
    private static string Key(string[] labels) => string.Join('\0', labels);
}

/// <summary>A metric whose series are refreshed by snapshots.</summary>
internal interface ISweepable
{
    /// <summary>Ends a snapshot: removes every series this snapshot did not set.</summary>
    void Sweep();
}

/// <summary>Makes <see cref="LabelledSeries{TChild}"/> for counters (monotonic: IncTo) and gauges.</summary>
internal static class Series
{
    public static LabelledSeries<Counter.Child> Counter(IMetricFactory factory, string name, string help, params string[] labels) =>
        new(factory.CreateCounter(name, help, labels), (c, v) => c.IncTo(v), c => c.Value);

    public static LabelledSeries<Gauge.Child> Gauge(IMetricFactory factory, string name, string help, params string[] labels) =>
        new(factory.CreateGauge(name, help, labels), (g, v) => g.Set(v));
}
