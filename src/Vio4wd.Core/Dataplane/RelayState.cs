using Vio4wd.Contracts;
namespace Vio4wd.Core.Dataplane;

/// <summary>Live state of one relay as the dataplane sees it: the truth the control plane reconciles against.</summary>
public sealed record RelayState
{
    public required int Id { get; init; }

    public required VmSide Vm { get; init; }

    public required DeviceSide Device { get; init; }

    /// <summary>NUMA node of the relay's mbuf pool; null when unknown or none.</summary>
    public int? NumaNode { get; init; }

    public required DirectionPlacement VmToVf { get; init; }

    public required DirectionPlacement VfToVm { get; init; }

    public required DirectionStats VmToVfStats { get; init; }

    public required DirectionStats VfToVmStats { get; init; }

    public int MbufsInUse { get; init; }

    public int MbufsTotal { get; init; }

    /// <summary>Both sides present: packets can flow.</summary>
    public bool Active => Vm.Connected && Device.Attached;

    /// <summary>Nothing configured on this relay id.</summary>
    public bool IsEmpty => Vm.Socket is null && !Device.Attached;
}

/// <summary>The vhost-user side.</summary>
public sealed record VmSide
{
    public string? Socket { get; init; }

    public VhostMode Mode { get; init; }

    public bool Connected { get; init; }

    public int? Vid { get; init; }

    public int QueuePairs { get; init; }

    /// <summary>Bit q set: the guest enabled its RX queue q (VF to VM).</summary>
    public uint RxQueueMask { get; init; }

    /// <summary>Bit q set: the guest enabled its TX queue q (VM to VF).</summary>
    public uint TxQueueMask { get; init; }

    public ulong NegotiatedFeatures { get; init; }

    /// <summary>The guest is being live-migrated (VHOST_F_LOG_ALL negotiated).</summary>
    public bool LiveMigration { get; init; }
}

/// <summary>The VF side.</summary>
public sealed record DeviceSide
{
    public bool Attached { get; init; }

    /// <summary>The device string, or the bond's members.</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    public BondMode? BondMode { get; init; }

    public int? Port { get; init; }

    public bool Started { get; init; }

    /// <summary>The device reported its removal (e.g. the VF was unplugged).</summary>
    public bool Failed { get; init; }

    public DeviceCounters Counters { get; init; } = new();
}

/// <summary>The VF port's own counters (ethdev statistics).</summary>
public sealed record DeviceCounters(
    ulong InPackets = 0,
    ulong OutPackets = 0,
    ulong InMissed = 0,
    ulong InErrors = 0,
    ulong OutErrors = 0,
    ulong RxNoMbuf = 0);

/// <summary>Where one direction runs: the worker CPU and the pin, if any.</summary>
public sealed record DirectionPlacement(int? Cpu, int? PinnedCpu);

/// <summary>Counters of one direction since the process started.</summary>
public sealed record DirectionStats
{
    public ulong RxPackets { get; init; }

    public ulong RxBytes { get; init; }

    public ulong TxPackets { get; init; }

    public ulong TxBytes { get; init; }

    /// <summary>Dropped because the destination side was absent.</summary>
    public ulong DroppedUnavailablePackets { get; init; }

    public ulong DroppedUnavailableBytes { get; init; }

    /// <summary>Dropped because the VF's driver refused the guest's offload request (e.g. a malformed TSO segment size).</summary>
    public ulong DroppedInvalidPackets { get; init; }

    public ulong DroppedInvalidBytes { get; init; }

    /// <summary>Bursts the destination could not take at once (held and retried, not dropped).</summary>
    public ulong HeldBursts { get; init; }

    /// <summary>Packets per guest queue: RX queues for VF to VM, TX queues for VM to VF.</summary>
    public IReadOnlyList<ulong> QueuePackets { get; init; } = [];
}
