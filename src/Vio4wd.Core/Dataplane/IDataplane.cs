using Vio4wd.Contracts;
using System.Threading.Channels;

namespace Vio4wd.Core.Dataplane;

/// <summary>The counters of every relay and every worker at one moment: what a scrape or a load sample reads.</summary>
public sealed record DataplaneSnapshot(IReadOnlyList<RelayState> Relays, IReadOnlyList<WorkerLoad> Workers);

/// <summary>
/// The relay engine, seen from the control plane. Every operation is idempotent-friendly: it
/// fails with a <see cref="DataplaneException"/> that names the problem and changes nothing.
/// </summary>
public interface IDataplane : IAsyncDisposable
{
    /// <summary>Relay ids are 0 .. MaxRelays - 1 (the DPDK build's RTE_MAX_ETHPORTS).</summary>
    int MaxRelays { get; }

    /// <summary>The worker CPUs, in lcore order.</summary>
    IReadOnlyList<int> WorkerCpus { get; }

    /// <summary>What changed underneath, in order. Never blocks the dataplane.</summary>
    ChannelReader<DataplaneEvent> Events { get; }

    Task AttachDeviceAsync(int relay, DeviceAttachment device, CancellationToken cancellationToken = default);

    Task DetachDeviceAsync(int relay, CancellationToken cancellationToken = default);

    Task RegisterSocketAsync(int relay, string path, VhostMode mode, CancellationToken cancellationToken = default);

    Task UnregisterSocketAsync(int relay, CancellationToken cancellationToken = default);

    /// <summary>Pins the directions of a relay to worker CPUs (null = automatic); placed directions move at once.</summary>
    Task SetCpusAsync(int relay, int? vfToVmCpu, int? vmToVfCpu, CancellationToken cancellationToken = default);

    Task<RelayState> GetRelayAsync(int relay, CancellationToken cancellationToken = default);

    /// <summary>Every relay that has a socket or a device.</summary>
    Task<IReadOnlyList<RelayState>> ListRelaysAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<WorkerLoad>> GetWorkerLoadsAsync(CancellationToken cancellationToken = default);

    /// <summary>Every relay and every worker, read together (one trip to the dataplane's control thread where it can).</summary>
    async Task<DataplaneSnapshot> SnapshotAsync(CancellationToken cancellationToken = default) =>
        new(await ListRelaysAsync(cancellationToken).ConfigureAwait(false), await GetWorkerLoadsAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Sets the dataplane's (DPDK's) log level to a syslog priority, 0-7, as the daemon's own.</summary>
    void SetLogLevel(int level);
}
