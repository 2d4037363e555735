using Vio4wd.Dataplane.Model;

namespace Vio4wd.Core.Stats;

/// <summary>
/// One relay's counters and rates over a window, shaped like the original's stats service
/// reports them (states, activity and CPUs per direction) so every stats output can follow its
/// field presence rules.
/// </summary>
public sealed record RelayStatsSample(
    int Id,
    bool Active,
    string? Device,
    string? Socket,
    int? NumaNode,
    DirectionSample VfToVm,
    DirectionSample VmToVf)
{
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
            DirectionSample.Between(after.Device.Attached, deviceState, after.VfToVm.Cpu, before.VfToVmStats, after.VfToVmStats, seconds),
            DirectionSample.Between(after.Vm.Connected, vmState, after.VmToVf.Cpu, before.VmToVfStats, after.VmToVfStats, seconds));
    }

    private static string DeviceName(DeviceSide device) =>
        device.BondMode is { } mode ? $"bond({mode}): {string.Join(", ", device.Devices)}" : device.Devices[0];
}

/// <summary>
/// One direction: "rx" is where packets enter the relay (the VF for VF to VM, the guest for VM
/// to VF), "tx" where they leave it.
/// </summary>
public sealed record DirectionSample(
    bool Active,
    string InternalState,
    int? Cpu,
    ulong RxPackets,
    ulong RxBytes,
    ulong TxPackets,
    ulong TxBytes,
    ulong DroppedPackets,
    ulong DroppedBytes,
    double RxPacketRate,
    double RxByteRate,
    double TxPacketRate,
    double TxByteRate)
{
    internal static DirectionSample Between(bool active, string state, int? cpu, DirectionStats before, DirectionStats after, double seconds) =>
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
