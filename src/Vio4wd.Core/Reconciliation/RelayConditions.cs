using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Reconciliation;

/// <summary>A relay's conditions (DeviceReady, VhostConnected, Ready) from what the dataplane reports: a pure function.</summary>
public static class RelayConditions
{
    public static bool DeviceReady(RelayState live)
    {
        ArgumentNullException.ThrowIfNull(live);
        return live.Device.Attached && live.Device.Started && !live.Device.Failed;
    }

    public static bool Ready(RelayState live) => DeviceReady(live) && live.Vm.Connected;

    public static RelayStatus Apply(RelayStatus status, DesiredRelay? want, RelayState live, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(live);
        bool wantsDevice = want?.Spec.Device is not null;
        bool deviceReady = DeviceReady(live);
        status = status.WithCondition(ConditionTypes.DeviceReady, deviceReady,
            deviceReady ? "Attached" : live.Device.Failed ? "DeviceRemoved" : wantsDevice ? "NotAttached" : "NoDevice",
            deviceReady ? $"{string.Join(", ", live.Device.Devices)} is DPDK port {live.Device.Port}" : wantsDevice ? "the device is not attached" : "no device is configured for this relay", now);
        status = status.WithCondition(ConditionTypes.VhostConnected, live.Vm.Connected,
            live.Vm.Connected ? "Connected" : live.Vm.Socket is null ? "NoSocket" : "WaitingForVm",
            live.Vm.Connected ? $"VM connected on {live.Vm.Socket} with {live.Vm.QueuePairs} queue pair(s)" : live.Vm.Socket is null ? "no vhost-user socket" : $"no VM on {live.Vm.Socket}", now);
        bool ready = Ready(live);
        return status.WithCondition(ConditionTypes.Ready, ready,
            ready ? "Forwarding" : !deviceReady ? "DeviceNotReady" : "VhostNotConnected",
            ready ? "packets flow both ways" : "waiting for both sides", now);
    }
}
