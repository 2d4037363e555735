using StreamJsonRpc;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Ways for tests to change the dataplane behind the reconciler's back (drift). Served on the
/// control socket only when the daemon runs with VIO4WD_TEST_HOOKS=1.
/// </summary>
internal sealed class TestHooks(IDataplane dataplane)
{
    public const string EnableVariable = "VIO4WD_TEST_HOOKS";

    /// <summary>PCI addresses standing for vdevs, so port control (which names only PCI devices) can be tested without hardware.</summary>
    public const string PciAliasVariable = "VIO4WD_TEST_PCI_ALIASES";

    /// <summary>With test hooks on, VIO4WD_TEST_PCI_ALIASES="0000:00:01.0=net_null5;..." maps those addresses to devices.</summary>
    public static Func<Contracts.PciAddress, string>? PciAliases()
    {
        if (Environment.GetEnvironmentVariable(EnableVariable) != "1" || Environment.GetEnvironmentVariable(PciAliasVariable) is not { } text)
        {
            return null;
        }

        var aliases = new Dictionary<Contracts.PciAddress, string>();
        foreach (string pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            if (parts.Length == 2 && Contracts.PciAddress.TryParse(parts[0], out Contracts.PciAddress pci))
            {
                aliases[pci] = parts[1];
            }
        }

        return pci => aliases.TryGetValue(pci, out string? device) ? device : pci.ToString();
    }

    /// <summary>With test hooks on, VIO4WD_TEST_SYSFS_ROOT points netdev resolution at a fake sysfs tree.</summary>
    public static Sources.Netdev.NetdevResolver? NetdevResolver() =>
        Environment.GetEnvironmentVariable(EnableVariable) == "1" && Environment.GetEnvironmentVariable("VIO4WD_TEST_SYSFS_ROOT") is { } root
            ? new Sources.Netdev.NetdevResolver(root, _ => null)
            : null;

    public static TestHooks? IfEnabled(IDataplane dataplane) =>
        Environment.GetEnvironmentVariable(EnableVariable) == "1" ? new TestHooks(dataplane) : null;

    /// <summary>Detaches the relay's device and unregisters its socket, telling nobody.</summary>
    [JsonRpcMethod("test.removeRelay")]
    public async Task RemoveRelayAsync(int relay)
    {
        await dataplane.DetachDeviceAsync(relay).ConfigureAwait(false);
        await dataplane.UnregisterSocketAsync(relay).ConfigureAwait(false);
    }
}
