using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Reconciliation;

/// <summary>One change to make on a live relay; <see cref="Step"/> names it in the plug trace, <see cref="Description"/> in the relay's events.</summary>
public abstract record DataplaneAction(string Step, string Description)
{
    public abstract Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken);
}

public sealed record RemoveSocket(string Path) : DataplaneAction("socket removed", $"removed socket {Path}")
{
    public override Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken) =>
        dataplane.UnregisterSocketAsync(relay, cancellationToken);
}

public sealed record RegisterSocket(VhostSocketSpec Socket)
    : DataplaneAction("socket registered", $"registered socket {Socket.Path} ({Socket.Mode.ToString().ToLowerInvariant()} mode)")
{
    public override Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken) =>
        dataplane.RegisterSocketAsync(relay, Socket.Path, Socket.Mode, cancellationToken);
}

public sealed record DetachDevice(DeviceAttachment Device, bool Removed)
    : DataplaneAction("device detached", Removed ? $"detached {Device} (it was removed)" : $"detached {Device}")
{
    public override Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken) =>
        dataplane.DetachDeviceAsync(relay, cancellationToken);
}

public sealed record AttachDevice(DeviceAttachment Device) : DataplaneAction("device attached", $"attached {Device}")
{
    public override Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken) =>
        dataplane.AttachDeviceAsync(relay, Device, cancellationToken);
}

public sealed record SetCpus(CpuPins Pins)
    : DataplaneAction("CPUs set", $"pinned to CPUs {Pins.VfToVm?.ToString() ?? "auto"},{Pins.VmToVf?.ToString() ?? "auto"}")
{
    public override Task ApplyAsync(IDataplane dataplane, int relay, CancellationToken cancellationToken) =>
        dataplane.SetCpusAsync(relay, Pins.VfToVm, Pins.VmToVf, cancellationToken);
}

/// <summary>
/// The changes that take a live relay to its desired state, in order (the socket, then the
/// device, then the pins), and nothing for what already matches: a pure function of the two,
/// so repeating a pass does nothing and an unchanged relay is never touched.
/// </summary>
/// <param name="Drifted">The desired state was applied before, yet the relay differs: it changed underneath.</param>
public sealed record RelayPlan(IReadOnlyList<DataplaneAction> Actions, bool Drifted)
{
    /// <param name="want">The desired state (null: nothing wanted).</param>
    /// <param name="before">The relay's status before this pass (null: none).</param>
    public static RelayPlan For(DesiredRelay? want, RelayState live, RelayStatus? before)
    {
        ArgumentNullException.ThrowIfNull(live);
        RelaySpec? spec = want?.Spec;
        VhostSocketSpec? liveSocket = live.Vm.Socket is null ? null : new VhostSocketSpec(live.Vm.Socket, live.Vm.Mode);
        DeviceAttachment? liveDevice = LiveDevice(live);
        bool socketDiffers = !Equals(liveSocket, spec?.Socket);
        // A device that reported its removal (a VF unplugged) is taken down and attached again, with
        // the relay's backoff while it is absent, so the relay comes back when the device does.
        bool deviceRemoved = live.Device.Attached && live.Device.Failed && spec?.Device is not null;
        bool deviceDiffers = !RelaySpec.SameDevice(liveDevice, spec?.Device) || deviceRemoved;
        var actions = new List<DataplaneAction>();
        if (socketDiffers)
        {
            if (liveSocket is not null)
            {
                actions.Add(new RemoveSocket(liveSocket.Path));
            }

            if (spec?.Socket is { } socket)
            {
                actions.Add(new RegisterSocket(socket));
            }
        }

        if (deviceDiffers)
        {
            if (liveDevice is not null)
            {
                actions.Add(new DetachDevice(liveDevice, deviceRemoved));
            }

            if (spec?.Device is { } device)
            {
                actions.Add(new AttachDevice(device));
            }
        }

        CpuPins wantPins = spec?.Pins ?? new CpuPins(null, null);
        if (new CpuPins(live.VfToVm.PinnedCpu, live.VmToVf.PinnedCpu) != wantPins)
        {
            actions.Add(new SetCpus(wantPins));
        }

        bool drifted = before?.ObservedGeneration == want?.Generation && before?.Spec is not null && (socketDiffers || deviceDiffers);
        return new RelayPlan(actions, drifted);
    }

    private static DeviceAttachment? LiveDevice(RelayState live) =>
        !live.Device.Attached ? null
        : live.Device.BondMode is { } mode ? DeviceAttachment.Bond(mode, live.Device.Devices)
        : DeviceAttachment.Of(live.Device.Devices[0]);
}
