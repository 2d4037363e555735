namespace Vio4wd.Contracts.Stats;

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
    DirectionSample VmToVf);

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
    double TxByteRate);
