using Vio4wd.Core.Dataplane;

namespace Vio4wd.Api.Metrics;

/// <summary>
/// Each worker's busy share over a recent window: the busy and idle cycle deltas since a baseline
/// taken at least a second earlier. Scrapes closer together than that share the window, so the
/// ratio does not jump between 0 and 1 with each poll that happened to find packets.
/// </summary>
internal sealed class WorkerBusyRatio
{
    private static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);
    private readonly Dictionary<int, double> _ratios = [];
    private Dictionary<int, WorkerLoad> _baseline = [];
    private long _baselineTime;

    public IReadOnlyDictionary<int, double> Update(IReadOnlyList<WorkerLoad> now, long timestamp, TimeProvider time)
    {
        if (_baselineTime != 0 && time.GetElapsedTime(_baselineTime, timestamp) < MinWindow)
        {
            return _ratios;
        }

        _ratios.Clear();
        foreach (WorkerLoad w in now)
        {
            // Counters that went back (a dataplane started again) give no window: the gauge falls back to the ratio since start.
            if (_baseline.TryGetValue(w.Cpu, out WorkerLoad? before) && w.BusyCycles >= before.BusyCycles && w.IdleCycles >= before.IdleCycles)
            {
                _ratios[w.Cpu] = w.BusyFractionSince(before);
            }
        }

        _baseline = now.ToDictionary(w => w.Cpu);
        _baselineTime = timestamp;
        return _ratios;
    }
}
