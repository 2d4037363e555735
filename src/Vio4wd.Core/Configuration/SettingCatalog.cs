namespace Vio4wd.Core.Configuration;

public enum SettingKey
{
    CpuMask,
    MasterLcore,
    LogLevel,
    NoDaemon,
    PidDir,
    HugeDir,
    OvsdbSock,
    IpcPortControl,
    IpcCommandFile,
    ZmqConfigEp,
    ZmqPortControlEp,
    ZmqStatsEp,
    ZmqCurveSecretKey,
    ZmqCurveClientKeys,
    ZmqAllowPlainLoopback,
    ZmqCoreSchedEp,
    CoreSchedEnable,
    SocketOwner,
    SocketGroup,
    SocketDir,
    SocketPattern,
    CpuPins,
    Jumbo,
    MergeableBuffers,
    StaticVfs,
    AllowRuntimeDevargs,
    VfioVfToken,
    VhostClient,
    ZeroCopy,
    Tso,
    DynamicSockets,
    SameNuma,
    EalArgs,
    ControlSock,
    ControlOwner,
    ControlGroup,
    BindVfioPci,
    Binary,
    CoreSchedSensitivity,
    CoreSchedLogLevel,
    CoreSchedPollInterval,
    CoreSchedGlobalNumaOpt,
}

public enum SettingShape
{
    /// <summary>One value; later occurrences replace earlier ones.</summary>
    Scalar,

    /// <summary>On or off: a bare option, or y/n in the file.</summary>
    Flag,

    /// <summary>Several values: a bash array or a repeated option.</summary>
    List,
}

/// <summary>One configuration setting: its config-file variable and its daemon option, either may be absent.</summary>
public sealed record SettingDefinition(
    SettingKey Key,
    string? Variable,
    string? LongOption,
    char? ShortOption,
    ArgumentKind Argument,
    SettingShape Shape,
    string ValueName,
    string Help)
{
    public OptionSpec? Option => LongOption is null ? null : new OptionSpec(LongOption, ShortOption, Argument);
}

/// <summary>Every setting of the original daemon and start script, plus vio4wd's additions.</summary>
public static class SettingCatalog
{
    public static IReadOnlyList<SettingDefinition> All { get; } =
    [
        new(SettingKey.CpuMask, "VIRTIOFWD_CPU_MASK", "cpus", 'C', ArgumentKind.Required, SettingShape.Scalar, "CPUS",
            "Worker CPUs (mandatory): a list such as 1,2 or 2-5, or a hex mask such as 0x6."),
        new(SettingKey.MasterLcore, "VIRTIOFWD_MASTER_LCORE", "master-lcore", 'M', ArgumentKind.Required, SettingShape.Scalar, "CPU",
            "EAL main lcore, not one of the worker CPUs (default 0)."),
        new(SettingKey.LogLevel, "VIRTIOFWD_LOG_LEVEL", "loglevel", 'l', ArgumentKind.Required, SettingShape.Scalar, "LEVEL",
            "Log threshold 0-7, least to most verbose (default 6)."),
        new(SettingKey.NoDaemon, null, "nodaemon", 'n', ArgumentKind.Optional, SettingShape.Scalar, "log_syslog",
            "Run in the foreground; log to stdout, or to syslog with =log_syslog."),
        new(SettingKey.PidDir, "VIRTIOFWD_PID_DIR", "pid-path", 'p', ArgumentKind.Required, SettingShape.Scalar, "DIR",
            "Directory of virtio-forwarder.pid (default /var/run)."),
        new(SettingKey.HugeDir, "VIRTIOFWD_HUGETLBFS_MOUNT_POINT", "huge-dir", 'H', ArgumentKind.Required, SettingShape.Scalar, "DIR",
            "hugetlbfs mount point (default /mnt/huge)."),
        new(SettingKey.OvsdbSock, "VIRTIOFWD_OVSDB_SOCK_PATH", "ovsdb-sock", 'O', ArgumentKind.Required, SettingShape.Scalar, "SOCKET",
            "OVSDB server: a socket path, unix:PATH or tcp:ADDRESS:PORT (default /usr/local/var/run/openvswitch/db.sock)."),
        new(SettingKey.IpcPortControl, "VIRTIOFWD_IPC_PORT_CONTROL", "ipc", 'I', ArgumentKind.None, SettingShape.Flag, "",
            "Take add_port/del_port commands from /tmp/vio_cmd instead of OVSDB (unless ZMQ port control is on)."),
        new(SettingKey.IpcCommandFile, "VIRTIOFWD_IPC_CMD_FILE", "ipc-file", null, ArgumentKind.Required, SettingShape.Scalar, "PATH",
            "The file monitor's command file (default /tmp/vio_cmd) (vio4wd)."),
        new(SettingKey.ZmqConfigEp, "VIRTIOFWD_ZMQ_CONFIG_EP", "zmq-config-ep", 'Y', ArgumentKind.Optional, SettingShape.Scalar, "EP",
            "Serve the ZMQ config service (default endpoint " + VirtioForwarderOptions.DefaultZmqConfigEndpoint + ")."),
        new(SettingKey.ZmqPortControlEp, "VIRTIOFWD_ZMQ_PORT_CONTROL_EP", "zmq-port-control-ep", 'Z', ArgumentKind.Optional, SettingShape.Scalar, "EP",
            "Serve ZMQ port control (default endpoint " + VirtioForwarderOptions.DefaultZmqPortControlEndpoint + ")."),
        new(SettingKey.ZmqStatsEp, "VIRTIOFWD_ZMQ_STATS_EP", "zmq-stats-ep", 'z', ArgumentKind.Optional, SettingShape.Scalar, "EP",
            "Serve ZMQ stats (default endpoint " + VirtioForwarderOptions.DefaultZmqStatsEndpoint + ")."),
        new(SettingKey.ZmqCurveSecretKey, "VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE", "zmq-curve-secret-key", null, ArgumentKind.Required, SettingShape.Scalar, "FILE",
            "File with the CURVE secret key (Z85) that tcp:// ZMQ endpoints serve with (vio4wd)."),
        new(SettingKey.ZmqCurveClientKeys, "VIRTIOFWD_ZMQ_CURVE_CLIENT_KEYS", "zmq-curve-client-keys", null, ArgumentKind.Required, SettingShape.Scalar, "PATH",
            "File or directory of the CURVE public keys (Z85, or CZMQ certificates) of the clients tcp:// endpoints serve; others get nothing (vio4wd)."),
        new(SettingKey.ZmqAllowPlainLoopback, "VIRTIOFWD_ZMQ_ALLOW_PLAIN_LOOPBACK", "zmq-allow-plain-loopback", null, ArgumentKind.None, SettingShape.Flag, "",
            "Allow tcp:// ZMQ endpoints on a loopback address without CURVE (vio4wd)."),
        new(SettingKey.ZmqCoreSchedEp, "VIRTIOFWD_ZMQ_CORE_SCHED_EP", "zmq-core-sched-ep", 's', ArgumentKind.Optional, SettingShape.Scalar, "EP",
            "Serve the ZMQ core scheduler and stats (default endpoint " + VirtioForwarderOptions.DefaultZmqCoreSchedEndpoint + ")."),
        new(SettingKey.CoreSchedEnable, "VIO4WD_CORE_SCHED_ENABLE", null, null, ArgumentKind.None, SettingShape.Flag, "",
            "Expose the core scheduler endpoint VIRTIOFWD_ZMQ_CORE_SCHED_EP."),
        new(SettingKey.SocketOwner, "VIRTIOFWD_SOCKET_OWNER", "vhost-username", 'u', ArgumentKind.Optional, SettingShape.Scalar, "USER",
            "vhost-user socket owner (default libvirt-qemu if it exists; with no value, the daemon's user)."),
        new(SettingKey.SocketGroup, "VIRTIOFWD_SOCKET_GROUP", "vhost-groupname", 'g', ArgumentKind.Optional, SettingShape.Scalar, "GROUP",
            "vhost-user socket group (default kvm if it exists; with no value, the daemon's group)."),
        new(SettingKey.SocketDir, "VIRTIOFWD_SOCKET_DIR", "vhost-path", 'V', ArgumentKind.Required, SettingShape.Scalar, "DIR",
            "Directory of the vhost-user sockets, writable only by root and the socket owner (default /tmp/virtio-forwarder, created 0750)."),
        new(SettingKey.SocketPattern, "VIRTIOFWD_SOCKET_FNAME_PATTERN", "vhost-socket", 'S', ArgumentKind.Required, SettingShape.Scalar, "PATTERN",
            "Socket file name with one %u for the relay id (default virtio-forwarder%u.sock)."),
        new(SettingKey.CpuPins, "VIRTIOFWD_CPU_PINS", "virtio-cpu", 'c', ArgumentKind.Required, SettingShape.List, "R:CPU[,CPU]",
            "Pin relay R: one CPU for both directions, or VF-to-VM,VM-to-VF CPUs; ';'-separated, repeatable."),
        new(SettingKey.Jumbo, "VIRTIOFWD_JUMBO", "enable-jumbo", 'J', ArgumentKind.None, SettingShape.Flag, "",
            "Jumbo frames: MTU 9000."),
        new(SettingKey.MergeableBuffers, "VIRTIOFWD_MRGBUF", "enable-mrgbuf", 'R', ArgumentKind.None, SettingShape.Flag, "",
            "Offer mergeable RX buffers to guests (can cost small-packet performance)."),
        new(SettingKey.StaticVfs, "VIRTIOFWD_STATIC_VFS", "add-pci-vf", 'P', ArgumentKind.Required, SettingShape.List, "DEVICE=R",
            "Relay DEVICE (PCI address or DPDK device string) on relay R from start-up; repeatable."),
        new(SettingKey.AllowRuntimeDevargs, "VIRTIOFWD_ALLOW_RUNTIME_DEVARGS", "allow-runtime-devargs", null, ArgumentKind.None, SettingShape.Flag, "",
            "Let OVSDB rows name DPDK device strings (vdevs, arguments); unsafe: any OVSDB writer can then open host files and NICs (vio4wd)."),
        new(SettingKey.VfioVfToken, "VIRTIOFWD_VFIO_VF_TOKEN", "vfio-vf-token", 't', ArgumentKind.Required, SettingShape.Scalar, "UUID",
            "VFIO VF token for the EAL: a UUID, or 0 for the default token."),
        new(SettingKey.VhostClient, "VIRTIOFWD_VHOST_CLIENT", "vhostuser-client", 'i', ArgumentKind.None, SettingShape.Flag, "",
            "vhost-user client mode (QEMU is the server; reconnects automatically)."),
        new(SettingKey.ZeroCopy, "VIRTIOFWD_ZERO_COPY", "zero-copy", '0', ArgumentKind.None, SettingShape.Flag, "",
            "Accepted for compatibility; DPDK 20.11 and later have no dequeue zero-copy."),
        new(SettingKey.Tso, "VIRTIOFWD_TSO", "enable-tso", 'T', ArgumentKind.None, SettingShape.Flag, "",
            "Offer TSO to guests and request it on the VF."),
        new(SettingKey.DynamicSockets, "VIRTIOFWD_DYNAMIC_SOCKETS", "dynamic-sockets", 'd', ArgumentKind.None, SettingShape.Flag, "",
            "Create no sockets at start; sockets come from port control ADD_SOCK."),
        new(SettingKey.SameNuma, "VIRTIOFWD_CPU_NIC_SAME_NUMA", "same-numa", 'a', ArgumentKind.None, SettingShape.Flag, "",
            "Reserve no hugepage memory on NUMA nodes without worker CPUs."),
        new(SettingKey.EalArgs, "VIRTIOFWD_EAL_ARGS", "eal-args", null, ArgumentKind.Required, SettingShape.Scalar, "\"ARGS\"",
            "Extra DPDK EAL arguments, e.g. \"--no-huge -m 1024\" (vio4wd)."),
        new(SettingKey.ControlSock, "VIRTIOFWD_CONTROL_SOCK", "control-sock", null, ArgumentKind.Required, SettingShape.Scalar, "PATH",
            "Unix socket of the control API used by vio4wdctl (default /run/virtio-forwarder/control.sock) (vio4wd)."),
        new(SettingKey.ControlOwner, "VIRTIOFWD_CONTROL_OWNER", "control-owner", null, ArgumentKind.Required, SettingShape.Scalar, "USER",
            "Owner of the control socket (default: the daemon's user) (vio4wd)."),
        new(SettingKey.ControlGroup, "VIRTIOFWD_CONTROL_GROUP", "control-group", null, ArgumentKind.Required, SettingShape.Scalar, "GROUP",
            "Group of the control socket, whose members may use vio4wdctl (default: the daemon's group) (vio4wd)."),
        new(SettingKey.BindVfioPci, "VIRTIOFWD_BIND_VFIO_PCI", null, null, ArgumentKind.None, SettingShape.Scalar, "",
            "Devices the daemon binds to vfio-pci before DPDK starts (sysfs driver_override): PCI addresses or netdev[:count], comma-separated."),
        new(SettingKey.Binary, "VIRTIOFWD_BINARY", null, null, ArgumentKind.None, SettingShape.Scalar, "",
            "Path of the daemon binary (used by start scripts)."),
        new(SettingKey.CoreSchedSensitivity, "VIO4WD_CORE_SCHED_SENSITIVITY", null, null, ArgumentKind.None, SettingShape.Scalar, "",
            "Core scheduler sensitivity, >= 0; smaller is more sensitive (default 0.25)."),
        new(SettingKey.CoreSchedLogLevel, "VIO4WD_CORE_SCHED_LOG_LEVEL", null, null, ArgumentKind.None, SettingShape.Scalar, "",
            "Core scheduler log threshold 0-7 (default 7)."),
        new(SettingKey.CoreSchedPollInterval, "VIO4WD_CORE_SCHED_POLL_INTERVAL", null, null, ArgumentKind.None, SettingShape.Scalar, "",
            "Core scheduler poll interval in seconds (default 5.0)."),
        new(SettingKey.CoreSchedGlobalNumaOpt, "VIO4WD_CORE_SCHED_GLOBAL_NUMA_OPT", null, null, ArgumentKind.None, SettingShape.Flag, "",
            "Core scheduler ignores NUMA affinities."),
    ];

    public static SettingDefinition? ByVariable(string name) => All.FirstOrDefault(s => s.Variable == name);

    public static SettingDefinition ByKey(SettingKey key) => All.First(s => s.Key == key);
}
