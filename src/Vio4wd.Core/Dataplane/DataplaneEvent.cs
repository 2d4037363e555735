namespace Vio4wd.Core.Dataplane;

/// <summary>Something changed underneath: the control plane should look at the relay again.</summary>
/// <param name="Value">Meaning depends on the type: the vhost id, the port, the vring and state, the node.</param>
/// <param name="MonotonicNanoseconds">CLOCK_MONOTONIC when it happened.</param>
public sealed record DataplaneEvent(DataplaneEventType Type, int Relay, long Value, ulong MonotonicNanoseconds)
{
    /// <summary>For <see cref="DataplaneEventType.QueueState"/>: the vring index.</summary>
    public int Vring => (int)(Value >> 1);

    /// <summary>For <see cref="DataplaneEventType.QueueState"/>: enabled or disabled.</summary>
    public bool Enabled => (Value & 1) != 0;
}

/// <summary>Numbered as <c>enum vio4wd_event_type</c>.</summary>
public enum DataplaneEventType
{
    VmConnected = 1,
    VmDisconnected = 2,
    VmRejected = 3,
    QueueState = 4,
    DeviceAttached = 5,
    DeviceDetached = 6,
    DeviceFailed = 7,
    LinkChanged = 8,
    LiveMigration = 9,
    MempoolMoved = 10,
    SocketRegistered = 11,
    SocketUnregistered = 12,
    EventsLost = 13,
}
