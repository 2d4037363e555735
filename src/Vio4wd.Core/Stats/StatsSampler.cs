using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Stats;

/// <summary>
/// Counters of every relay the dataplane holds, and rates over a window this caller alone
/// measures (two readings <c>delay</c> apart), so concurrent clients never shorten each other's
/// windows as they did with the original's shared snapshots.
/// </summary>
public static class StatsSampler
{
    public static async Task<IReadOnlyDictionary<int, RelayStatsSample>> SampleAsync(IDataplane dataplane, TimeSpan delay, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        time ??= TimeProvider.System;
        long start = time.GetTimestamp();
        IReadOnlyList<RelayState> before = await dataplane.ListRelaysAsync(cancellationToken).ConfigureAwait(false);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<RelayState> after = await dataplane.ListRelaysAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan elapsed = time.GetElapsedTime(start);
        Dictionary<int, RelayState> first = before.ToDictionary(r => r.Id);
        return after.ToDictionary(r => r.Id, r => Between(first.GetValueOrDefault(r.Id) ?? r, r, elapsed));
    }

    /// <summary>A relay with nothing on either side, as the stats services report unused relay ids.</summary>
    public static RelayStatsSample Empty(int relay) => Between(EmptyState(relay), EmptyState(relay), TimeSpan.Zero);

    private static RelayState EmptyState(int relay) => new()
    {
        Id = relay,
        Vm = new VmSide(),
        Device = new DeviceSide(),
        VfToVm = new DirectionPlacement(null, null),
        VmToVf = new DirectionPlacement(null, null),
        VfToVmStats = new DirectionStats(),
        VmToVfStats = new DirectionStats(),
    };

    /// <summary>
    /// Rates are the counter deltas between two readings of the same relay divided by the time
    /// between them; each caller takes its own readings, so no client shortens another's window
    /// (the original re-snapshotted every relay on every request).
    /// </summary>
    public static RelayStatsSample Between(RelayState before, RelayState after, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        double seconds = elapsed.TotalSeconds;
        string vmState = after.Vm.Connected ? "VIRTIO_READY" : "VIRTIO_UNINIT";
        string deviceState = !after.Device.Attached ? "DPDK_UNINIT" : after.Device.Started ? "DPDK_READY" : "DPDK_ADDED";
        return new RelayStatsSample(
            after.Id,
            after.Vm.Connected && after.Device.Attached && after.Device.Started,
            after.Device.Attached ? DeviceName(after.Device) : null,
            after.Vm.Socket,
            after.NumaNode,
            Direction(after.Device.Attached, deviceState, after.VfToVm.Cpu, before.VfToVmStats, after.VfToVmStats, seconds),
            Direction(after.Vm.Connected, vmState, after.VmToVf.Cpu, before.VmToVfStats, after.VmToVfStats, seconds));
    }

    private static string DeviceName(DeviceSide device) =>
        device.BondMode is { } mode ? $"bond({mode}): {string.Join(", ", device.Devices)}" : device.Devices[0];

    private static DirectionSample Direction(bool active, string state, int? cpu, DirectionStats before, DirectionStats after, double seconds) =>
        new(
            active,
            state,
            active ? cpu : null,
            after.RxPackets,
            after.RxBytes,
            after.TxPackets,
            after.TxBytes,
            after.DroppedUnavailablePackets,
            after.DroppedUnavailableBytes,
            Rate(before.RxPackets, after.RxPackets, seconds),
            Rate(before.RxBytes, after.RxBytes, seconds),
            Rate(before.TxPackets, after.TxPackets, seconds),
            Rate(before.TxBytes, after.TxBytes, seconds));

    // Counters only grow; a reading that went backwards (another process's relay) rates 0.
    private static double Rate(ulong before, ulong after, double seconds) =>
        seconds <= 0 || after < before ? 0 : (after - before) / seconds;
}
