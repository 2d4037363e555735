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

    /// <summary>Share of the time since <paramref name="before"/> spent moving packets, 0..1; 0 when no time passed or a counter went back.</summary>
    public double BusyFractionSince(WorkerLoad before)
    {
        ArgumentNullException.ThrowIfNull(before);
        ulong busy = Delta(before.BusyCycles, BusyCycles);
        ulong total = busy + Delta(before.IdleCycles, IdleCycles);
        return total == 0 ? 0 : (double)busy / total;
    }

    /// <summary>Packets moved since <paramref name="before"/>; 0 when the counter went back.</summary>
    public ulong PacketsSince(WorkerLoad before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return Delta(before.Packets, Packets);
    }

    /// <summary>
    /// TSC cycles of busy polls per packet moved since <paramref name="before"/>, the forwarding cost
    /// per packet (it does not depend on how often the worker found nothing); null without packets.
    /// </summary>
    public double? BusyCyclesPerPacketSince(WorkerLoad before)
    {
        ArgumentNullException.ThrowIfNull(before);
        ulong packets = PacketsSince(before);
        return packets == 0 ? null : (double)Delta(before.BusyCycles, BusyCycles) / packets;
    }

    private static ulong Delta(ulong before, ulong after) => after >= before ? after - before : 0;
}
