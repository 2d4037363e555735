using System.Globalization;
using Vio4wd.Contracts;

namespace Vio4wd.Sources.Netdev;

/// <summary>What binding one device came to: bound (or already), or why not.</summary>
public sealed record VfioBinding(string Selector, string? Pci, string? Error)
{
    public bool Bound => Error is null;
}

/// <summary>
/// Binds devices to vfio-pci before DPDK attaches them (VIRTIOFWD_BIND_VFIO_PCI), as the
/// original's pre-start did with dpdk-devbind: a PCI address, or a PF netdev's VFs (all, or the
/// first N with <c>netdev:N</c>). Through sysfs <c>driver_override</c>: set the override, unbind
/// the current driver, ask the PCI core to probe, and check that vfio-pci took it. The sysfs root
/// and the writer can be replaced (tests).
/// </summary>
public sealed class VfioBinder(string sysfsRoot = "/sys", Action<string, string>? write = null)
{
    public const string Driver = "vfio-pci";

    private readonly Action<string, string> _write = write ?? ((path, value) => File.WriteAllText(path, value));

    /// <summary>Binds every device the selectors name; one result per device (or per selector that names none).</summary>
    public IReadOnlyList<VfioBinding> Bind(IEnumerable<string> selectors)
    {
        ArgumentNullException.ThrowIfNull(selectors);
        var results = new List<VfioBinding>();
        foreach (string selector in selectors)
        {
            IReadOnlyList<string> devices = DevicesOf(selector, out string? error);
            if (error is not null)
            {
                results.Add(new VfioBinding(selector, null, error));
            }

            results.AddRange(devices.Select(pci => new VfioBinding(selector, pci, BindOne(pci))));
        }

        return results;
    }

    private IReadOnlyList<string> DevicesOf(string selector, out string? error)
    {
        error = null;
        if (PciAddress.TryParse(selector, out PciAddress pci))
        {
            return [pci.ToString()];
        }

        string[] parts = selector.Split(':', 2);
        string netdev = parts[0];
        string device = Path.Combine(sysfsRoot, "class", "net", netdev, "device");
        if (!Directory.Exists(device))
        {
            error = $"VIRTIOFWD_BIND_VFIO_PCI: no network interface {netdev} on this host";
            return [];
        }

        var vfs = Directory.EnumerateFileSystemEntries(device, "virtfn*")
            .Select(path => (Index: int.TryParse(Path.GetFileName(path)["virtfn".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1, Path: path))
            .Where(vf => vf.Index >= 0)
            .OrderBy(vf => vf.Index)
            .Select(vf => Path.GetFileName(NetdevResolver.LinkTarget(vf.Path) ?? string.Empty))
            .Where(name => name.Length > 0)
            .ToList();
        int count = parts.Length == 2 ? int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture) : vfs.Count;
        if (vfs.Count < count)
        {
            error = $"VIRTIOFWD_BIND_VFIO_PCI: {netdev} has {vfs.Count} VFs, {count} asked for (sriov_numvfs sets how many it has)";
        }
        else if (vfs.Count == 0)
        {
            error = $"VIRTIOFWD_BIND_VFIO_PCI: {netdev} has no VFs (set /sys/class/net/{netdev}/device/sriov_numvfs)";
        }

        return [.. vfs.Take(count)];
    }

    private string? BindOne(string pci)
    {
        string device = Path.Combine(sysfsRoot, "bus", "pci", "devices", pci);
        if (!Directory.Exists(device))
        {
            return $"VIRTIOFWD_BIND_VFIO_PCI: no PCI device {pci} on this host";
        }

        string? current = CurrentDriver(device);
        if (current == Driver)
        {
            return null;
        }

        if (!Directory.Exists(Path.Combine(sysfsRoot, "bus", "pci", "drivers", Driver)))
        {
            return $"VIRTIOFWD_BIND_VFIO_PCI: cannot bind {pci} to {Driver}: the driver is not loaded (modprobe vfio-pci)";
        }

        try
        {
            _write(Path.Combine(device, "driver_override"), Driver);
            if (current is not null)
            {
                _write(Path.Combine(device, "driver", "unbind"), pci);
            }

            _write(Path.Combine(sysfsRoot, "bus", "pci", "drivers_probe"), pci);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"VIRTIOFWD_BIND_VFIO_PCI: cannot bind {pci} (bound to {current ?? "no driver"}) to {Driver}: {e.Message}";
        }

        string? now = CurrentDriver(device);
        return now == Driver ? null
            : $"VIRTIOFWD_BIND_VFIO_PCI: {pci} is bound to {now ?? "no driver"}, not {Driver}, after binding (is its IOMMU group viable? see dmesg)";
    }

    private static string? CurrentDriver(string device) =>
        NetdevResolver.LinkTarget(Path.Combine(device, "driver")) is { } target ? Path.GetFileName(target) : null;
}
