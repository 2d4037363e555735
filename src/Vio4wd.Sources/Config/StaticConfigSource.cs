using Vio4wd.Core.Configuration;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Sources.Config;

/// <summary>
/// The relays the configuration asks for: a socket per relay from the name template (unless
/// sockets are dynamic), the static VFs (VIRTIOFWD_STATIC_VFS / -P) and the CPU pins. A static VF
/// always gets its template socket, so its VM can connect even with dynamic sockets.
/// </summary>
public static class StaticConfigProvider
{
    public const string Source = "static";

    public static IReadOnlyList<RelaySpec> SpecsOf(VirtioForwarderOptions options, int maxRelays)
    {
        ArgumentNullException.ThrowIfNull(options);
        VhostMode mode = options.VhostClientMode ? VhostMode.Client : VhostMode.Server;
        var devices = options.StaticVfs.Where(v => v.RelayId < maxRelays).ToDictionary(v => v.RelayId, v => v.Device.ToString());
        var pins = options.CpuPins.Where(p => p.RelayId < maxRelays).ToDictionary(p => p.RelayId, p => new CpuPins(p.VfToVmCpu, p.VmToVfCpu));
        IEnumerable<int> relays = options.DynamicSockets
            ? devices.Keys.Union(pins.Keys)
            : Enumerable.Range(0, maxRelays);
        return [.. relays.Order().Select(id => new RelaySpec(
            id,
            devices.TryGetValue(id, out string? device) ? DeviceAttachment.Of(device) : null,
            !options.DynamicSockets || devices.ContainsKey(id) ? new VhostSocketSpec(options.SocketPathOf(id), mode) : null,
            pins.GetValueOrDefault(id)))];
    }

    /// <summary>Static VFs the dataplane cannot hold (relay id beyond its limit).</summary>
    public static IEnumerable<string> Rejected(VirtioForwarderOptions options, int maxRelays) =>
        options.StaticVfs.Where(v => v.RelayId >= maxRelays)
            .Select(v => $"static VF {v.Device} skipped: relay {v.RelayId} is out of range (relays are 0..{maxRelays - 1})");
}
