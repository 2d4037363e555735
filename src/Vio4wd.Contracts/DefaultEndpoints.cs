namespace Vio4wd.Contracts;

/// <summary>Where the daemon listens unless configured otherwise: the tools' defaults too.</summary>
public static class DefaultEndpoints
{
    public const string ControlSocket = "/run/virtio-forwarder/control.sock";
    public const string ZmqConfig = "ipc:///var/run/virtio-forwarder/config";
    public const string ZmqPortControl = "ipc:///var/run/virtio-forwarder/port_control";
    public const string ZmqStats = "ipc:///var/run/virtio-forwarder/stats";
    public const string ZmqCoreSched = "ipc:///var/run/virtio-forwarder/core_sched";
}
