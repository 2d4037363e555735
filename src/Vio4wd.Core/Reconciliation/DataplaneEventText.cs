using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Reconciliation;

/// <summary>What happened in the dataplane, in the operator's words (log lines and relay events).</summary>
public static class DataplaneEventText
{
    /// <summary>The log line of an event, or null for events not worth one.</summary>
    public static string? Describe(DataplaneEvent e) => e.Type switch
    {
        DataplaneEventType.VmConnected => $"relay {e.Relay}: VM connected (vid={e.Value})",
        DataplaneEventType.VmDisconnected => $"relay {e.Relay}: VM disconnected (vid={e.Value})",
        DataplaneEventType.VmRejected => $"relay {e.Relay}: VM connection refused (error {e.Value})",
        DataplaneEventType.DeviceAttached => $"relay {e.Relay}: device attached as DPDK port {e.Value}",
        DataplaneEventType.DeviceDetached => $"relay {e.Relay}: device detached",
        DataplaneEventType.DeviceFailed => $"relay {e.Relay}: device (port {e.Value}) reported its removal",
        DataplaneEventType.LinkChanged => $"relay {e.Relay}: VF link {(e.Value != 0 ? "up" : "down")}",
        DataplaneEventType.LiveMigration => $"relay {e.Relay}: live migration {(e.Value != 0 ? "started (VHOST_F_LOG_ALL set)" : "ended")}",
        DataplaneEventType.MempoolMoved => $"relay {e.Relay}: mempool moved to NUMA node {e.Value} to align with the guest",
        DataplaneEventType.EventsLost => $"dataplane: {e.Value} events lost (queue overflow)",
        _ => null,
    };

    /// <summary>Whether the event is one the operator should look at.</summary>
    public static bool IsWarning(DataplaneEvent e) =>
        e.Type is DataplaneEventType.VmRejected or DataplaneEventType.DeviceFailed or DataplaneEventType.EventsLost;

    /// <summary>The event as it appears in a relay's history (reason and message), or null for events not kept there.</summary>
    public static RelayEvent? AsRelayEvent(DataplaneEvent e, DateTimeOffset time) =>
        e.Type == DataplaneEventType.EventsLost || Describe(e) is not { } line ? null
        : new RelayEvent(time, IsWarning(e) ? "Warning" : "Normal", e.Type.ToString(), line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
}
