using Vio4wd.Contracts;

namespace Vio4wd.Configuration;

/// <summary>A static VF: a device relayed on a fixed relay id from start-up.</summary>
public sealed record StaticVf(DeviceAttachment Device, int RelayId);

/// <summary>Worker CPUs of one relay: VF→VM and VM→VF directions (the same CPU when one was given).</summary>
public sealed record CpuPin(int RelayId, int VfToVmCpu, int VmToVfCpu);

/// <summary>Who owns the vhost-user sockets: the documented default account, the daemon's own, or a named one.</summary>
public sealed record SocketAccount(string? Name, bool Inherit)
{
    /// <summary>The original's default: the account if it exists on the host, else the daemon's own.</summary>
    public static SocketAccount DefaultOf(string name) => new(name, Inherit: false) { IsDefault = true };

    public static SocketAccount InheritFromProcess { get; } = new(null, Inherit: true);

    public static SocketAccount Named(string name) => new(name, Inherit: false);

    public bool IsDefault { get; private init; }
}

public enum LogDestination
{
    /// <summary>syslog/journald with identity "virtio-forwarder", facility LOCAL0.</summary>
    Syslog,

    /// <summary>stdout with timestamps (<c>--nodaemon</c> without <c>log_syslog</c>).</summary>
    Console,
}

/// <summary>Settings of the vio4wd_core_scheduler, which shares the daemon's config file.</summary>
public sealed record CoreSchedulerOptions
{
    public bool Enabled { get; init; }

    public double Sensitivity { get; init; } = 0.25;

    public int LogLevel { get; init; } = 7;

    public double PollIntervalSeconds { get; init; } = 5.0;

    public bool GlobalNumaOptimisation { get; init; }

    /// <summary>"measured" (the workers' busy cycles) or "original" (the original's traffic model).</summary>
    public string LoadModel { get; init; } = "measured";
}

/// <summary>
/// The validated configuration of the daemon, built from the config file and the command line
/// (the command line wins). Defaults are the original daemon's, except where noted.
/// </summary>
public sealed record VirtioForwarderOptions
{
    public const string DefaultZmqConfigEndpoint = DefaultEndpoints.ZmqConfig;
    public const string DefaultZmqPortControlEndpoint = DefaultEndpoints.ZmqPortControl;
    public const string DefaultZmqStatsEndpoint = DefaultEndpoints.ZmqStats;
    public const string DefaultZmqCoreSchedEndpoint = DefaultEndpoints.ZmqCoreSched;
    public const string DefaultIpcCommandFile = "/tmp/vio_cmd";
    public const string DefaultOvsdbSocket = "/usr/local/var/run/openvswitch/db.sock";
    public const string StandardOvsdbSocket = "/var/run/openvswitch/db.sock";
    public const string DefaultVfioVfToken = "14d63f20-8445-11ea-8900-1f9ce7d5650d";

    public string? ConfigFile { get; init; }

    public required CpuSet WorkerCpus { get; init; }

    public int MainLcore { get; init; }

    public int LogLevel { get; init; } = 6;

    public LogDestination LogDestination { get; init; } = LogDestination.Syslog;

    /// <summary>False when <c>--nodaemon</c> was given (run in the foreground).</summary>
    public bool Daemonize { get; init; } = true;

    public string PidDirectory { get; init; } = "/var/run";

    public string PidFile => Path.Combine(PidDirectory, "virtio-forwarder.pid");

    public string HugepageDirectory { get; init; } = "/mnt/huge";

    public string OvsdbSocket { get; init; } = DefaultOvsdbSocket;

    /// <summary>VIRTIOFWD_OVSDB_SOCK_PATH was given (else the daemon looks in the usual places).</summary>
    public bool OvsdbSocketConfigured { get; init; }

    /// <summary>
    /// Where to look for OVSDB: the configured remote, or else the original's default and Open
    /// vSwitch's standard run directory (Debian's OVS listens there), first existing one wins.
    /// </summary>
    public IReadOnlyList<string> OvsdbRemotes => OvsdbSocketConfigured ? [OvsdbSocket] : [DefaultOvsdbSocket, StandardOvsdbSocket];

    public bool IpcPortControl { get; init; }

    /// <summary>The file monitor's command file.</summary>
    public string IpcCommandFile { get; init; } = DefaultIpcCommandFile;

    public string? ZmqConfigEndpoint { get; init; }

    public string? ZmqPortControlEndpoint { get; init; }

    public string? ZmqStatsEndpoint { get; init; }

    /// <summary>The CURVE secret key file tcp:// endpoints serve with; without it only ipc:// (or loopback, if allowed).</summary>
    public string? ZmqCurveSecretKeyFile { get; init; }

    /// <summary>The file or directory of the client public keys CURVE endpoints admit.</summary>
    public string? ZmqCurveClientKeys { get; init; }

    /// <summary>tcp:// endpoints on loopback addresses may go without CURVE.</summary>
    public bool ZmqAllowPlainLoopback { get; init; }

    public string? ZmqCoreSchedEndpoint { get; init; }

    public SocketAccount SocketOwner { get; init; } = SocketAccount.DefaultOf("libvirt-qemu");

    public SocketAccount SocketGroup { get; init; } = SocketAccount.DefaultOf("kvm");

    /// <summary>
    /// The original's built-in default was /tmp; any local user can create a socket name there,
    /// so the default is the shipped config's directory, which the daemon creates (mode 0750).
    /// </summary>
    public const string DefaultSocketDirectory = "/tmp/virtio-forwarder";

    public string SocketDirectory { get; init; } = DefaultSocketDirectory;

    public string SocketNameTemplate { get; init; } = "virtio-forwarder%u.sock";

    public bool VhostClientMode { get; init; }

    public bool DynamicSockets { get; init; }

    public bool ZeroCopy { get; init; }

    public bool Jumbo { get; init; }

    public bool MergeableBuffers { get; init; }

    public bool Tso { get; init; }

    public bool SameNuma { get; init; }

    /// <summary>The VFIO VF token passed to the EAL, or null to pass none.</summary>
    public string? VfioVfToken { get; init; }

    public IReadOnlyList<StaticVf> StaticVfs { get; init; } = [];

    /// <summary>
    /// Runtime sources may name DPDK device strings, not only PCI addresses. Off by default:
    /// <c>net_pcap0,tx_pcap=/etc/shadow</c> from an OVSDB writer would truncate a host file.
    /// </summary>
    public bool AllowRuntimeDevargs { get; init; }

    public IReadOnlyList<CpuPin> CpuPins { get; init; } = [];

    /// <summary>Extra EAL arguments (vio4wd addition), e.g. <c>--no-huge -m 1024</c>.</summary>
    public IReadOnlyList<string> ExtraEalArguments { get; init; } = [];

    /// <summary>The control API's unix socket (vio4wd addition).</summary>
    public string ControlSocket { get; init; } = DefaultEndpoints.ControlSocket;

    /// <summary>Owner of the control socket; the daemon's own by default.</summary>
    public SocketAccount ControlOwner { get; init; } = SocketAccount.InheritFromProcess;

    /// <summary>Group of the control socket (its members may use vio4wdctl); the daemon's own by default.</summary>
    public SocketAccount ControlGroup { get; init; } = SocketAccount.InheritFromProcess;

    /// <summary>Relay ids are 0..MaxRelays-1 (VIRTIOFWD_MAX_RELAYS, vio4wd addition; the original had 64).</summary>
    public int MaxRelays { get; init; } = DefaultMaxRelays;

    /// <summary>Longest back-off sleep of an idle worker in microseconds; 0 = always poll (vio4wd addition).</summary>
    public int IdleSleepMaxUs { get; init; } = DefaultIdleSleepMaxUs;

    /// <summary>Where /metrics, /healthz and /readyz are served; null: nowhere (vio4wd addition).</summary>
    public ListenAddress? MetricsAddress { get; init; }

    /// <summary>Directories besides the socket directory where port control's ADD_SOCK may name sockets (VIRTIOFWD_VHOST_SOCKET_DIRS, vio4wd addition).</summary>
    public IReadOnlyList<string> VhostSocketDirectories { get; init; } = [];

    /// <summary>Every directory a runtime source may have a relay's socket in: the socket directory first.</summary>
    public IReadOnlyList<string> SocketDirectories => [SocketDirectory, .. VhostSocketDirectories];

    /// <summary>Where the state file is kept (VIRTIOFWD_STATE_DIR); null: no state file (vio4wd addition).</summary>
    public string? StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>Devices the daemon binds to vfio-pci before DPDK starts (VIRTIOFWD_BIND_VFIO_PCI), as the original's pre-start did.</summary>
    public IReadOnlyList<string> BindVfioPci { get; init; } = [];

    public CoreSchedulerOptions CoreScheduler { get; init; } = new();

    /// <summary>The built-in relay count, when the DPDK build allows it (NICs expose 64-256 VFs per PF).</summary>
    public const int DefaultMaxRelays = 256;

    /// <summary>The built-in state directory, as systemd's StateDirectory=vio4wd makes it.</summary>
    public const string DefaultStateDirectory = "/var/lib/vio4wd";

    /// <summary>The built-in idle back-off bound (0: always poll, as the original).</summary>
    public const int DefaultIdleSleepMaxUs = 0;

    /// <summary>The vhost-user socket path of a relay in default-socket mode.</summary>
    public string SocketPathOf(int relayId) =>
        Path.Combine(SocketDirectory, SocketNameTemplate.Replace("%u", relayId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
}
