namespace Vio4wd.Core.Dataplane;

/// <summary>Measured load of one worker CPU (cycles are the CPU's time-stamp counter).</summary>
public sealed record WorkerLoad(
    int Cpu,
    int NumaNode,
    int Directions,
    ulong BusyCycles,
    ulong IdleCycles,
    ulong Polls,
    ulong Packets,
    ulong CyclesPerSecond)
{
    /// <summary>Share of time spent moving packets since start, 0..1.</summary>
    public double BusyFraction
    {
        get
        {
            ulong total = BusyCycles + IdleCycles;
            return total == 0 ? 0 : (double)BusyCycles / total;
        }
    }
}
