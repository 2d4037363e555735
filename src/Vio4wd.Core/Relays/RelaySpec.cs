using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Relays;

/// <summary>
/// What one source wants for one relay: the VF side, the vhost-user side and CPU pins. A null
/// side means "none". Specs are values: two equal specs ask for the same thing.
/// </summary>
public sealed record RelaySpec(int RelayId, DeviceAttachment? Device, VhostSocketSpec? Socket, CpuPins? Pins = null)
{
    /// <summary>Devices the spec claims, for conflict detection (bond members count one by one).</summary>
    public IEnumerable<string> ClaimedDevices => Device?.Devices ?? [];

    /// <summary>Whether two device sides ask for the same thing (null: none); devices compare as values.</summary>
    public static bool SameDevice(DeviceAttachment? a, DeviceAttachment? b) => Equals(a, b);
}

/// <summary>The vhost-user socket of a relay.</summary>
public sealed record VhostSocketSpec(string Path, VhostMode Mode);

/// <summary>Worker CPUs for the two directions; null means automatic placement.</summary>
public sealed record CpuPins(int? VfToVm, int? VmToVf);
