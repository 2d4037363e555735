using System.Text.RegularExpressions;
using Vio4wd.Contracts;

namespace Vio4wd.Contracts;

/// <summary>
/// The device of a relay's VF side: a PCI address (production) or any DPDK device string
/// such as <c>net_tap0,iface=vf0</c> or <c>net_pcap0,rx_pcap=in.pcap</c> (tests and demos).
/// </summary>
public sealed partial record DeviceSpec
{
    private DeviceSpec(string text, PciAddress? pci)
    {
        Text = text;
        Pci = pci;
    }

    /// <summary>The canonical device string handed to DPDK (PCI addresses in lower-case sysfs form).</summary>
    public string Text { get; }

    /// <summary>The PCI address when the device is a PCI function, else null.</summary>
    public PciAddress? Pci { get; }

    /// <summary>A PCI address without device arguments: all a runtime source may name unless allowed more.</summary>
    public bool IsPlainPci => Pci is { } pci && Text == pci.ToString();

    /// <summary>Why a runtime source may not name this device, or null when it may.</summary>
    public string? RuntimeRefusal(bool allowDevargs) =>
        allowDevargs || IsPlainPci
            ? null
            : "runtime sources take PCI addresses only; DPDK device strings come from the config file unless VIRTIOFWD_ALLOW_RUNTIME_DEVARGS is set";

    public override string ToString() => Text;

    /// <summary>The dataplane's device string buffer holds this many characters (VIO4WD_DEVICE_LEN - 1).</summary>
    public const int MaxLength = 511;

    /// <summary>Parses a PCI address or DPDK devargs; null with <paramref name="error"/> set when neither.</summary>
    public static DeviceSpec? Parse(string text, out string error)
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
            return new DeviceSpec(pci + arguments, pci);
        }

        if (DriverName().IsMatch(name))
        {
            return new DeviceSpec(text, null);
        }

        error = "expected a PCI address (dddd:bb:dd.f or bb:dd.f) or a DPDK device string (e.g. net_tap0,iface=vf0)";
        return null;
    }

    // A vdev name as DPDK accepts it, optionally with a bus prefix ("vdev:net_tap0").
    [GeneratedRegex("^(?:[a-z]+:)?[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex DriverName();

    [GeneratedRegex("^(?:,[A-Za-z0-9_.-]+=[^,]*)+$")]
    private static partial Regex Arguments();
}
