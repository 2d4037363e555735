using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Core.ControlApi;

/// <summary>The control plane's view of a relay, shaped for the tools (<see cref="RelayView"/>).</summary>
public static class RelayViews
{
    public static RelayView Of(RelayStatus status, PlugTrace? lastPlug = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        RelayState? live = status.Live;
        return new RelayView(
            status.Id,
            status.Source,
            status.Spec?.Device?.ToString() ?? (live?.Device.Attached == true ? string.Join(";", live.Device.Devices) : null),
            status.Spec?.Socket?.Path ?? live?.Vm.Socket,
            (status.Spec?.Socket?.Mode ?? live?.Vm.Mode)?.ToString().ToLowerInvariant(),
            status.Ready,
            [.. status.Conditions.Select(c => new ConditionView(c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime))],
            live is null ? new RelayStatsView(new DirectionView(0, 0, 0, 0, 0), new DirectionView(0, 0, 0, 0, 0))
                : new RelayStatsView(Direction(live.VmToVfStats), Direction(live.VfToVmStats)),
            status.LastError,
            status.Generation,
            status.ObservedGeneration,
            status.Created,
            [.. status.Events.Select(e => new EventView(e.Time, e.Type, e.Reason, e.Message))],
            new PlacementView(Placement(live?.VfToVm), Placement(live?.VmToVf)),
            live?.NumaNode,
            live?.Vm.QueuePairs ?? 0,
            live?.Vm.LiveMigration ?? false,
            live?.Device.Attached == true ? Counters(live.Device.Counters) : null,
            live?.Vm.Connected == true ? live.Vm.NegotiatedFeatures : 0,
            lastPlug is null ? null : Plug(lastPlug));
    }

    private static PlugView Plug(PlugTrace t) =>
        new(t.Kind, t.Source, t.Started, t.DoneMs, t.RowMs, t.Slowest?.Name, t.Slowest?.Ms, [.. t.Steps.Select(s => new PlugStepView(s.Name, s.AtMs))]);

    private static DirectionCpuView Placement(DirectionPlacement? placement) => new(placement?.Cpu, placement?.PinnedCpu);

    private static DirectionView Direction(DirectionStats s) => new(s.RxPackets, s.RxBytes, s.TxPackets, s.TxBytes, s.DroppedUnavailablePackets + s.DroppedInvalidPackets);

    private static DeviceCountersView Counters(DeviceCounters c) => new(c.InPackets, c.OutPackets, c.InMissed, c.InErrors, c.OutErrors, c.RxNoMbuf);
}
