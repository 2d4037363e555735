using System.Text.RegularExpressions;

namespace Vio4wd.Contracts;

/// <summary>
/// The VF side of a relay, the one device type from input to dataplane: one DPDK device string
/// (a PCI address in production, or devargs such as <c>net_tap0,iface=vf0</c> in tests and demos),
/// or the members of a bond handled by DPDK's bonding PMD.
/// </summary>
public sealed partial record DeviceAttachment
{
    public const int MaxBondMembers = 8;

    /// <summary>The dataplane's device string buffer holds this many characters (VIO4WD_DEVICE_LEN - 1).</summary>
    public const int MaxLength = 511;

    private DeviceAttachment(IReadOnlyList<string> devices, BondMode? bondMode)
    {
        Devices = devices;
        BondMode = bondMode;
    }

    /// <summary>The device strings handed to DPDK (PCI addresses in lower-case sysfs form when parsed).</summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>Null for a single device.</summary>
    public BondMode? BondMode { get; }

    /// <summary>The PCI address of a single PCI device (devargs after it allowed), else null.</summary>
    public PciAddress? Pci =>
        BondMode is null && PciAddress.TryParse(Devices[0].Split(',')[0], out PciAddress pci) ? pci : null;

    /// <summary>A single PCI address without device arguments: all a runtime source may name unless allowed more.</summary>
    public bool IsPlainPci => Pci is { } pci && Devices[0] == pci.ToString();

    /// <summary>Why a runtime source may not name this device, or null when it may.</summary>
    public string? RuntimeRefusal(bool allowDevargs) =>
        allowDevargs || IsPlainPci
            ? null
            : "runtime sources take PCI addresses only; DPDK device strings come from the config file unless VIRTIOFWD_ALLOW_RUNTIME_DEVARGS is set";

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

    /// <summary>Parses a PCI address or DPDK devargs; null with <paramref name="error"/> set when neither.</summary>
    public static DeviceAttachment? Parse(string text, out string error)
    {
        error = string.Empty;
        // Longer strings would be cut, and ';' joins bond members in the dataplane's report: the
        // live device would never equal the spec, and the relay would be re-attached every pass.
        if (text.Length > MaxLength)
        {
            error = $"a device string has at most {MaxLength} characters, not {text.Length}";
            return null;
        }

        if (text.Contains(';', StringComparison.Ordinal))
        {
            error = "a device string cannot contain ';'";
            return null;
        }

        int comma = text.IndexOf(',', StringComparison.Ordinal);
        string name = comma < 0 ? text : text[..comma];
        string arguments = comma < 0 ? string.Empty : text[comma..];

        if (text.Length == 0 || text.Any(char.IsWhiteSpace) || text.Any(char.IsControl))
        {
            error = "a device must be a PCI address or a DPDK device string without spaces";
            return null;
        }

        if (arguments.Length > 0 && !Arguments().IsMatch(arguments))
        {
            error = "device arguments must be comma-separated key=value pairs";
            return null;
        }

        // DPDK 22.11 crashes on a bare devargs layer key where a device name belongs (fuzzing found "bus").
        if (name is "bus" or "class" or "driver")
        {
            error = $"'{name}' is a DPDK devargs keyword, not a device";
            return null;
        }

        if (PciAddress.TryParse(name, out PciAddress pci))
        {
            return Of(pci + arguments);
        }

        if (DriverName().IsMatch(name))
        {
            return Of(text);
        }

        error = "expected a PCI address (dddd:bb:dd.f or bb:dd.f) or a DPDK device string (e.g. net_tap0,iface=vf0)";
        return null;
    }

    /// <summary>Values: the same mode and the same devices in the same order (bond members are ordered: the first is the primary).</summary>
    public bool Equals(DeviceAttachment? other) =>
        other is not null && BondMode == other.BondMode && Devices.SequenceEqual(other.Devices, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(BondMode, Devices.Count, Devices[0]);

    public override string ToString() =>
        BondMode is { } mode ? $"bond({mode}): {string.Join(", ", Devices)}" : Devices[0];

    // A vdev name as DPDK accepts it, optionally with a bus prefix ("vdev:net_tap0").
    [GeneratedRegex("^(?:[a-z]+:)?[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex DriverName();

    [GeneratedRegex("^(?:,[A-Za-z0-9_.-]+=[^,]*)+$")]
    private static partial Regex Arguments();
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
