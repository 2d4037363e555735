using StreamJsonRpc;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Ways for tests to change the dataplane behind the reconciler's back (drift). Served on the
/// control socket only when the daemon runs with VIO4WD_TEST_HOOKS=1.
/// </summary>
internal sealed class TestHooks(Func<IDataplane?> dataplane)
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

    /// <summary>The sysfs the daemon reads and writes: /sys, or with test hooks on VIO4WD_TEST_SYSFS_ROOT (a fake tree).</summary>
    public static string SysfsRoot() => FakeSysfsRoot() ?? "/sys";

    /// <summary>With test hooks on, VIO4WD_TEST_SYSFS_ROOT points netdev resolution at a fake sysfs tree (and asks no ethtool).</summary>
    public static Sources.Netdev.NetdevResolver? NetdevResolver() =>
        FakeSysfsRoot() is { } root ? new Sources.Netdev.NetdevResolver(root, _ => null) : null;

    private static string? FakeSysfsRoot() =>
        Environment.GetEnvironmentVariable(EnableVariable) == "1" ? Environment.GetEnvironmentVariable("VIO4WD_TEST_SYSFS_ROOT") : null;

    public static TestHooks? IfEnabled(Func<IDataplane?> dataplane) =>
        Environment.GetEnvironmentVariable(EnableVariable) == "1" ? new TestHooks(dataplane) : null;

    /// <summary>Detaches the relay's device and unregisters its socket, telling nobody.</summary>
    [JsonRpcMethod("test.removeRelay")]
    public async Task RemoveRelayAsync(int relay)
    {
        IDataplane running = dataplane() ?? throw new InvalidOperationException("the dataplane is not running");
        await running.DetachDeviceAsync(relay).ConfigureAwait(false);
        await running.UnregisterSocketAsync(relay).ConfigureAwait(false);
    }

    /// <summary>The relay's VF reports its removal, as a hot-unplugged device does (a vdev cannot be pulled).</summary>
    [JsonRpcMethod("test.deviceRemoved")]
    public Task DeviceRemovedAsync(int relay) =>
        (dataplane() as Dataplane.NativeDataplane ?? throw new InvalidOperationException("the native dataplane is not running"))
            .SimulateDeviceRemovalAsync(relay);

    /// <summary>
    /// Faults injected into the daemon's parts, with test hooks on: VIO4WD_TEST_FAULTS="static:1,3;ovsdb.publish:1,3;events:1"
    /// makes the static source fail on its first and third run, the OVSDB source on its first and
    /// third snapshot, and the event pump on its first run (as the dataplane failing would, which
    /// ends the daemon).
    /// </summary>
    public sealed class Faults
    {
        public const string Variable = "VIO4WD_TEST_FAULTS";
        private readonly Dictionary<string, HashSet<int>> _failOn = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _runs = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public static Faults FromEnvironment()
        {
            var faults = new Faults();
            if (Environment.GetEnvironmentVariable(EnableVariable) != "1" || Environment.GetEnvironmentVariable(Variable) is not { } text)
            {
                return faults;
            }

            foreach (string entry in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = entry.Split(':', 2);
                if (parts.Length == 2)
                {
                    faults._failOn[parts[0]] = [.. parts[1].Split(',').Select(n => int.TryParse(n, out int run) ? run : 0)];
                }
            }

            return faults;
        }

        /// <summary>A source publishes its claims for the <paramref name="count"/>th time: fails it when told to.</summary>
        public void OnPublish(string source, int count)
        {
            if (_failOn.TryGetValue($"{source}.publish", out HashSet<int>? publishes) && publishes.Contains(count))
            {
                throw new InvalidOperationException($"injected fault: snapshot {count} of {source}");
            }
        }

        /// <summary>Counts a run of the part and fails it when told to.</summary>
        public void OnRun(string part)
        {
            int run;
            lock (_lock)
            {
                run = _runs[part] = _runs.GetValueOrDefault(part) + 1;
            }

            if (_failOn.TryGetValue(part, out HashSet<int>? runs) && runs.Contains(run))
            {
                throw part == "events"
                    ? new DataplaneFailedException($"injected fault: run {run} of {part}")
                    : new InvalidOperationException($"injected fault: run {run} of {part}");
            }
        }
    }
}
