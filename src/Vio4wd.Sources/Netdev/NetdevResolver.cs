using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;

namespace Vio4wd.Sources.Netdev;

/// <summary>A netdev's VF: the PCI address to relay and the relay id (the VF number).</summary>
public sealed record ResolvedVf(DeviceAttachment Device, int RelayId, string How);

/// <summary>
/// Finds the VF behind a netdev named in OVSDB or a file-monitor command: a switchdev port
/// representor (<c>phys_port_name</c> <c>pfNvfM</c>: the PF's <c>virtfnM</c>, relay M), or a
/// Netronome representor as the original did (<c>ethtool -i</c> bus-info <c>NFP 0 VFa.M PCI</c>).
/// The sysfs root and the ethtool runner can be replaced (tests).
/// </summary>
public sealed partial class NetdevResolver(string sysfsRoot = "/sys", Func<string, string?>? ethtool = null)
{
    private readonly Func<string, string?> _ethtool = ethtool ?? RunEthtool;

    /// <summary>The netdev's VF, or null with <paramref name="error"/> saying why not.</summary>
    public ResolvedVf? Resolve(string netdev, out string error)
    {
        error = string.Empty;
        if (!NetdevName().IsMatch(netdev))
        {
            error = $"'{netdev}' is not a valid network interface name";
            return null;
        }

        string dir = Path.Combine(sysfsRoot, "class", "net", netdev);
        if (ReadLine(Path.Combine(dir, "phys_port_name")) is { } portName && Representor().Match(portName) is { Success: true } rep)
        {
            int vf = int.Parse(rep.Groups["vf"].Value, CultureInfo.InvariantCulture);
            string virtfn = Path.Combine(dir, "device", $"virtfn{vf}");
            if (LinkTarget(virtfn) is { } target && DeviceAttachment.Parse(Path.GetFileName(target), out _) is { Pci: not null } pci)
            {
                return new ResolvedVf(pci, vf, $"switchdev representor {portName}");
            }

            error = $"{netdev} is representor {portName} but its PF has no virtfn{vf}";
            return null;
        }

        if (_ethtool(netdev) is { } info && NfpBusInfo().Match(info) is { Success: true } nfp
            && DeviceAttachment.Parse(nfp.Groups["pci"].Value, out _) is { Pci: not null } nfpPci)
        {
            return new ResolvedVf(nfpPci, int.Parse(nfp.Groups["vf"].Value, CultureInfo.InvariantCulture), "NFP representor (ethtool -i)");
        }

        error = Directory.Exists(dir)
            ? $"{netdev} is not a VF representor (no pfNvfM phys_port_name, no NFP bus-info); set external_ids:virtio_forwarder_dev and virtio_forwarder_relay"
            : $"no network interface {netdev} on this host; set external_ids:virtio_forwarder_dev and virtio_forwarder_relay";
        return null;
    }

    private static string? ReadLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Where a sysfs link points (a VF's virtfnN, a device's driver), or null.</summary>
    internal static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? new DirectoryInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? RunEthtool(string netdev)
    {
        if (!File.Exists("/sbin/ethtool"))
        {
            return null;
        }

        using var process = Process.Start(new ProcessStartInfo("/sbin/ethtool", ["-i", netdev]) { RedirectStandardOutput = true, RedirectStandardError = true });
        if (process is null)
        {
            return null;
        }

        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : null;
    }

    [GeneratedRegex("^[A-Za-z0-9_.:@-]{1,15}$")]
    private static partial Regex NetdevName();

    [GeneratedRegex("^pf(?<pf>\\d+)vf(?<vf>\\d+)$")]
    private static partial Regex Representor();

    [GeneratedRegex("bus-info: NFP 0 VF(?<a>\\d+)\\.(?<vf>\\d+) (?<pci>\\S+)")]
    private static partial Regex NfpBusInfo();
}
