using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Stats;
using Vio4wd.Dataplane.Model;

namespace Vio4wd.Core.ControlApi;

/// <summary>
/// The control API the daemon serves to local tools (JSON-RPC over a unix socket). Method names
/// on the wire are the C# names.
/// </summary>
public interface IControlApi
{
    Task<IReadOnlyList<RelayView>> StatusAsync();

    /// <summary>Counters now and rates over the next <paramref name="delayMs"/> milliseconds.</summary>
    /// <param name="includeInactive">Also relays that do not have both sides (as the original's stats service).</param>
    Task<IReadOnlyList<RelayStatsSample>> StatsAsync(int delayMs, bool includeInactive);

    /// <summary>
    /// Pins a relay's directions to worker CPUs: one CPU for both, or VF to VM then VM to VF; no
    /// CPU returns the relay to its configured pins. Answers once the reconciler has applied it.
    /// </summary>
    Task<RelayView> PinAsync(int relay, IReadOnlyList<int> cpus);

    /// <summary>What the sources asked for that cannot become a relay, and why.</summary>
    Task<IReadOnlyList<RejectedRequest>> RejectedAsync();

    Task<string> VersionAsync();
}

/// <summary>One relay as tools see it (the shape of <c>vio4wdctl status -o json</c>).</summary>
public sealed record RelayView(
    int Id,
    string? Source,
    string? Device,
    string? Socket,
    string? Mode,
    bool Ready,
    IReadOnlyList<ConditionView> Conditions,
    RelayStatsView Stats,
    string? LastError,
    long Generation,
    long ObservedGeneration,
    DateTimeOffset Created,
    IReadOnlyList<EventView> Events,
    PlacementView Cpus,
    int? NumaNode,
    int QueuePairs,
    bool LiveMigration,
    DeviceCounters? DeviceCounters)
{
    public static RelayView Of(RelayStatus status)
    {
        RelayState? live = status.Live;
        return new RelayView(
            status.Id,
            status.Source,
            status.Spec?.Device?.ToString() ?? (live?.Device.Attached == true ? string.Join(";", live.Device.Devices) : null),
            status.Spec?.Socket?.Path ?? live?.Vm.Socket,
            (status.Spec?.Socket?.Mode ?? live?.Vm.Mode)?.ToString().ToLowerInvariant(),
            status.Ready,
            [.. status.Conditions.Select(c => new ConditionView(c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime))],
            live is null ? new RelayStatsView(new DirectionView(0, 0, 0, 0, 0), new DirectionView(0, 0, 0, 0, 0))
                : new RelayStatsView(DirectionView.Of(live.VmToVfStats), DirectionView.Of(live.VfToVmStats)),
            status.LastError,
            status.Generation,
            status.ObservedGeneration,
            status.Created,
            [.. status.Events.Select(e => new EventView(e.Time, e.Type, e.Reason, e.Message))],
            new PlacementView(DirectionCpuView.Of(live?.VfToVm), DirectionCpuView.Of(live?.VmToVf)),
            live?.NumaNode,
            live?.Vm.QueuePairs ?? 0,
            live?.Vm.LiveMigration ?? false,
            live?.Device.Attached == true ? live.Device.Counters : null);
    }
}

public sealed record EventView(DateTimeOffset Time, string Type, string Reason, string Message);

/// <summary>The worker CPU of each direction and its pin (null: not placed / automatic).</summary>
public sealed record PlacementView(DirectionCpuView VfToVm, DirectionCpuView VmToVf);

public sealed record DirectionCpuView(int? Cpu, int? Pinned)
{
    public static DirectionCpuView Of(DirectionPlacement? placement) => new(placement?.Cpu, placement?.PinnedCpu);
}

public sealed record ConditionView(string Type, string Status, string Reason, string Message, DateTimeOffset LastTransitionTime);

public sealed record RelayStatsView(DirectionView VmToVf, DirectionView VfToVm);

public sealed record DirectionView(ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes, ulong DroppedPackets)
{
    public static DirectionView Of(DirectionStats s) => new(s.RxPackets, s.RxBytes, s.TxPackets, s.TxBytes, s.DroppedUnavailablePackets);
}
