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

    /// <summary>Liveness and readiness, check by check (what /healthz and /readyz answer).</summary>
    Task<HealthView> HealthAsync();

    /// <summary>The running configuration with the origin of each value, and the live CPU map.</summary>
    Task<ConfigView> ConfigAsync();

    /// <summary>Sets the log level (0-7, as VIRTIOFWD_LOG_LEVEL) when <paramref name="level"/> is given; answers the level in force.</summary>
    Task<LogLevelView> LogLevelAsync(int? level);

    /// <summary>Reads the configuration file again (as SIGHUP) and answers what changed.</summary>
    Task<ReloadView> ReloadAsync();

    /// <summary>Worker and relay load over the next <paramref name="delayMs"/> milliseconds.</summary>
    Task<TopView> TopAsync(int delayMs);
}

public sealed record HealthView(bool Live, bool Ready, IReadOnlyList<HealthCheckView> Liveness, IReadOnlyList<HealthCheckView> Readiness);

public sealed record HealthCheckView(string Name, bool Ok, string Message);

/// <param name="Settings">The effective settings as a config file, each line with where its value came from.</param>
/// <param name="CpuMap">Each worker CPU and the relay directions it polls now.</param>
public sealed record ConfigView(string? ConfigFile, string Settings, IReadOnlyList<WorkerMapView> CpuMap);

/// <param name="Directions">"RELAY:vf_to_vm" or "RELAY:vm_to_vf", with "(pinned)" when pinned.</param>
public sealed record WorkerMapView(int Cpu, int NumaNode, IReadOnlyList<string> Directions);

public sealed record LogLevelView(int Level, int Previous);

/// <param name="Applied">False when the file had errors: nothing changed.</param>
/// <param name="Changes">What changed: relays added, removed or changed, and settings that take effect at the next restart.</param>
public sealed record ReloadView(bool Applied, IReadOnlyList<string> Errors, IReadOnlyList<string> Changes);

public sealed record TopView(DateTimeOffset Time, double Seconds, IReadOnlyList<WorkerTopView> Workers, IReadOnlyList<RelayTopView> Relays);

/// <param name="BusyRatio">Share of the window the worker spent on polls that moved packets (0 to 1).</param>
/// <param name="CyclesPerPacket">TSC cycles of those polls per packet moved in the window; null without packets.</param>
/// <param name="Counters">The worker's counters since start, for figures over any window.</param>
public sealed record WorkerTopView(int Cpu, int NumaNode, double BusyRatio, double PacketsPerSecond, IReadOnlyList<string> Directions,
    double? CyclesPerPacket = null, WorkerCountersView? Counters = null);

/// <summary>A worker's counters since the dataplane started: TSC cycles of polls that moved packets (busy) and of empty
/// polls and sleeps (idle), polls, packets moved, and the TSC rate to turn cycles into time.</summary>
public sealed record WorkerCountersView(ulong BusyCycles, ulong IdleCycles, ulong Polls, ulong Packets, ulong CyclesPerSecond);

public sealed record RelayTopView(int Id, DirectionTopView VfToVm, DirectionTopView VmToVf);

public sealed record DirectionTopView(int? Cpu, double PacketsPerSecond, double BitsPerSecond, double DropsPerSecond);

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
    ulong VirtioFeatures = 0,
    PlugView? LastPlug = null);

/// <summary>
/// The relay's last change of desired state, traced from the input that asked for it to the pass
/// that applied it. Times in milliseconds after the input.
/// </summary>
/// <param name="Kind">plug (the relay became Ready), unplug (it stopped forwarding), change (anything else); null while in progress.</param>
/// <param name="Source">What asked for it: a source (ovsdb, zmq, files, config) or pins.</param>
/// <param name="DoneMs">To the end of the pass that applied it; null while in progress.</param>
/// <param name="RowMs">To the source's record saying so (an OVSDB row's virtio_forwarder_state=ready acknowledged); null if none.</param>
public sealed record PlugView(string? Kind, string Source, DateTimeOffset Started, double? DoneMs, double? RowMs, string? SlowestStep, double? SlowestMs, IReadOnlyList<PlugStepView> Steps);

/// <summary>A step of a traced change: what happened, in milliseconds after the input.</summary>
public sealed record PlugStepView(string Name, double AtMs);

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
