using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Stats;

/// <summary>
/// Worker and relay load over a window this caller alone measures: two snapshots of the
/// dataplane's counters (relays and workers together) <c>delay</c> apart. Busy ratios come
/// from the workers' own busy and idle cycle counters, not from a model of the traffic.
/// </summary>
public static class LoadSampler
{
    public static async Task<TopView> SampleAsync(IDataplane dataplane, TimeSpan delay, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        time ??= TimeProvider.System;
        long start = time.GetTimestamp();
        DataplaneSnapshot before = await dataplane.SnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }

        DataplaneSnapshot after = await dataplane.SnapshotAsync(cancellationToken).ConfigureAwait(false);
        double seconds = time.GetElapsedTime(start).TotalSeconds;
        return Between(before.Relays, before.Workers, after.Relays, after.Workers, seconds, time.GetUtcNow());
    }

    public static TopView Between(
        IReadOnlyList<RelayState> relaysBefore,
        IReadOnlyList<WorkerLoad> workersBefore,
        IReadOnlyList<RelayState> relaysAfter,
        IReadOnlyList<WorkerLoad> workersAfter,
        double seconds,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(relaysBefore);
        ArgumentNullException.ThrowIfNull(workersBefore);
        ArgumentNullException.ThrowIfNull(relaysAfter);
        ArgumentNullException.ThrowIfNull(workersAfter);
        Dictionary<int, RelayState> first = relaysBefore.ToDictionary(r => r.Id);
        RelayTopView[] relays = [.. relaysAfter.Where(r => !r.IsEmpty).OrderBy(r => r.Id).Select(r =>
        {
            RelayState before = first.GetValueOrDefault(r.Id) ?? r;
            return new RelayTopView(r.Id, Direction(r.VfToVm, before.VfToVmStats, r.VfToVmStats, seconds), Direction(r.VmToVf, before.VmToVfStats, r.VmToVfStats, seconds));
        })];
        Dictionary<int, WorkerLoad> workerFirst = workersBefore.ToDictionary(w => w.Cpu);
        WorkerTopView[] workers = [.. workersAfter.OrderBy(w => w.Cpu).Select(w =>
        {
            WorkerLoad before = workerFirst.GetValueOrDefault(w.Cpu) ?? w;
            return new WorkerTopView(w.Cpu, w.NumaNode, w.BusyFractionSince(before), seconds <= 0 ? 0 : w.PacketsSince(before) / seconds,
                DirectionsOn(w.Cpu, relaysAfter), w.BusyCyclesPerPacketSince(before),
                new WorkerCountersView(w.BusyCycles, w.IdleCycles, w.Polls, w.Packets, w.CyclesPerSecond));
        })];
        return new TopView(now, seconds, workers, relays);
    }

    /// <summary>The relay directions a worker CPU polls, as "RELAY:vf_to_vm" (with " (pinned)" when pinned there).</summary>
    public static IReadOnlyList<string> DirectionsOn(int cpu, IEnumerable<RelayState> relays)
    {
        ArgumentNullException.ThrowIfNull(relays);
        var directions = new List<string>();
        foreach (RelayState r in relays.OrderBy(r => r.Id))
        {
            foreach ((string name, DirectionPlacement placement) in new[] { ("vf_to_vm", r.VfToVm), ("vm_to_vf", r.VmToVf) })
            {
                if (placement.Cpu == cpu)
                {
                    directions.Add($"{r.Id}:{name}" + (placement.PinnedCpu == cpu ? " (pinned)" : string.Empty));
                }
            }
        }

        return directions;
    }

    private static DirectionTopView Direction(DirectionPlacement placement, DirectionStats before, DirectionStats after, double seconds) => new(
        placement.Cpu,
        Rate(before.TxPackets, after.TxPackets, seconds),
        Rate(before.TxBytes, after.TxBytes, seconds) * 8,
        Rate(before.DroppedUnavailablePackets + before.DroppedInvalidPackets, after.DroppedUnavailablePackets + after.DroppedInvalidPackets, seconds));

    private static ulong Delta(ulong before, ulong after) => after >= before ? after - before : 0;

    // A counter that went back (a relay id reused) rates 0 rather than a huge number.
    private static double Rate(ulong before, ulong after, double seconds) => seconds <= 0 ? 0 : Delta(before, after) / seconds;
}
