namespace Vio4wd.Core.Dataplane;

/// <summary>
/// The VF side of a relay: one DPDK device string (a PCI address or vdev devargs), or the
/// members of a bond handled by DPDK's bonding PMD.
/// </summary>
public sealed record DeviceAttachment
{
    public const int MaxBondMembers = 8;

    private DeviceAttachment(IReadOnlyList<string> devices, BondMode? bondMode)
    {
        Devices = devices;
        BondMode = bondMode;
    }

    public IReadOnlyList<string> Devices { get; }

    /// <summary>Null for a single device.</summary>
    public BondMode? BondMode { get; }

    public static DeviceAttachment Of(string device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        return new DeviceAttachment([device], null);
    }

    public static DeviceAttachment Bond(BondMode mode, IReadOnlyList<string> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count is < 1 or > MaxBondMembers)
        {
            throw new ArgumentException($"a bond has 1 to {MaxBondMembers} members, {members.Count} given", nameof(members));
        }

        return new DeviceAttachment([.. members], mode);
    }

    public override string ToString() =>
        BondMode is { } mode ? $"bond({mode}): {string.Join(", ", Devices)}" : Devices[0];
}

/// <summary>The bonding PMD's modes, numbered as DPDK and the original's protobuf do.</summary>
public enum BondMode
{
    RoundRobin = 0,
    ActiveBackup = 1,
    Balance = 2,
    Broadcast = 3,
    Lacp8023ad = 4,
    Tlb = 5,
    Alb = 6,
}
