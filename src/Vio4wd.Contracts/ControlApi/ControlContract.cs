using Vio4wd.Contracts.Stats;

namespace Vio4wd.Contracts.ControlApi;

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

    /// <summary>The daemon's own parts (sources, reconciler, servers) and how each is doing.</summary>
    Task<DaemonView> DaemonAsync();
}

/// <summary>The daemon as a whole: its version, whether its first pass is done, and each long-running part.</summary>
public sealed record DaemonView(string Version, int Pid, DateTimeOffset Started, bool Ready, IReadOnlyList<PartView> Parts);

/// <summary>
/// One long-running part: a source (static, ovsdb, file, zmq), the reconciler, the event pump or
/// a server. <paramref name="State"/> is Starting, Connecting, Connected, Serving, Running,
/// Faulted or Stopped; <paramref name="Since"/> is when it entered that state.
/// </summary>
public sealed record PartView(string Name, string Kind, string State, DateTimeOffset Since, string? Detail, string? LastError, DateTimeOffset? LastErrorTime, int Restarts);

/// <summary>One relay as tools see it (the shape of <c>vio4wdctl status -o json</c>).</summary>
/// <param name="VirtioFeatures">The virtio-net feature bits the VM negotiated (0 without a VM).</param>
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
    DeviceCountersView? DeviceCounters,
    ulong VirtioFeatures = 0);

public sealed record EventView(DateTimeOffset Time, string Type, string Reason, string Message);

/// <summary>The worker CPU of each direction and its pin (null: not placed / automatic).</summary>
public sealed record PlacementView(DirectionCpuView VfToVm, DirectionCpuView VmToVf);

public sealed record DirectionCpuView(int? Cpu, int? Pinned);

public sealed record ConditionView(string Type, string Status, string Reason, string Message, DateTimeOffset LastTransitionTime);

public sealed record RelayStatsView(DirectionView VmToVf, DirectionView VfToVm);

public sealed record DirectionView(ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes, ulong DroppedPackets);

/// <summary>The VF port's own counters (ethdev statistics).</summary>
public sealed record DeviceCountersView(ulong InPackets, ulong OutPackets, ulong InMissed, ulong InErrors, ulong OutErrors, ulong RxNoMbuf);

/// <summary>Something a source asked for that cannot become a relay, and why.</summary>
/// <param name="Subject">What the operator knows it by, e.g. "interface eth100".</param>
public sealed record RejectedRequest(string Source, string Subject, string Reason);
