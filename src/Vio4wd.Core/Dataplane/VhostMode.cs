namespace Vio4wd.Core.Dataplane;

/// <summary>Who listens on a vhost-user socket.</summary>
public enum VhostMode
{
    /// <summary>We listen and QEMU connects: the VM can restart, we cannot.</summary>
    Server,

    /// <summary>QEMU listens and we connect, reconnecting after breaks: both can restart.</summary>
    Client,
}
