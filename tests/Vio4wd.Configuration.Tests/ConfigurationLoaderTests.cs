using Vio4wd.Configuration;
using Vio4wd.Contracts;

namespace Vio4wd.Configuration.Tests;

/// <summary>Table-driven: every variable and option of the original, the documented forms, and bad inputs.</summary>
public class ConfigurationLoaderTests
{
    private const string Baseline = "VIRTIOFWD_CPU_MASK=1,2\nVIRTIOFWD_LOG_LEVEL=6\n";
    private static readonly ConfigLimits Limits = new(MaxRelays: 32, MaxCpus: 128);

    private static LoadedConfiguration Load(string? file, params string[] args)
    {
        string[] all = file is null ? args : ["--config", "cfg", .. args];
        return ConfigurationLoader.Load(all, Limits, _ => file ?? throw new FileNotFoundException());
    }

    private static VirtioForwarderOptions Valid(string? file, params string[] args)
    {
        LoadedConfiguration loaded = Load(file, args);
        Assert.That(loaded.Diagnostics.Errors, Is.Empty);
        return loaded.Options!;
    }

    [Test]
    public void Relay_ids_are_checked_against_max_relays_not_the_dpdk_build()
    {
        LoadedConfiguration loaded = Load("VIRTIOFWD_CPU_MASK=1\nVIRTIOFWD_MAX_RELAYS=8\nVIRTIOFWD_STATIC_VFS=0000:05:08.1=8\n");
        Assert.That(loaded.Diagnostics.Errors, Is.EqualTo(new[] { "cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08.1=8': relay 8 is out of range: relays are 0 to 7 (VIRTIOFWD_MAX_RELAYS)" }));
    }

    private static IEnumerable<TestCaseData> FileVariables()
    {
        static TestCaseData Case(string line, Func<VirtioForwarderOptions, object?> read, object? expected) =>
            new TestCaseData(line, read, expected).SetArgDisplayNames(line.Replace("\n", " ", StringComparison.Ordinal));

        yield return Case("VIRTIOFWD_CPU_MASK=0x6", o => o.WorkerCpus.ToString(), "1,2");
        yield return Case("VIRTIOFWD_CPU_MASK=3,1", o => o.WorkerCpus.ToString(), "1,3");
        yield return Case("VIRTIOFWD_CPU_MASK=2-5", o => o.WorkerCpus.ToString(), "2,3,4,5");
        yield return Case("VIRTIOFWD_CPU_MASK=,1,,2,", o => o.WorkerCpus.ToString(), "1,2");
        yield return Case("VIRTIOFWD_CPU_MASK=64,100", o => o.WorkerCpus.ToString(), "64,100");
        yield return Case("VIRTIOFWD_CPU_MASK=0x10000000000000002", o => o.WorkerCpus.ToString(), "1,64");
        yield return Case("VIRTIOFWD_LOG_LEVEL=7", o => o.LogLevel, 7);
        yield return Case("VIRTIOFWD_LOG_LEVEL=", o => o.LogLevel, 6);
        yield return Case("VIRTIOFWD_MASTER_LCORE=3", o => o.MainLcore, 3);
        yield return Case("VIRTIOFWD_MAX_RELAYS=", o => o.MaxRelays, 32);
        yield return Case("VIRTIOFWD_MAX_RELAYS=8\nVIRTIOFWD_STATIC_VFS=0000:05:08.1=7", o => (o.MaxRelays, o.StaticVfs.Single().RelayId), (8, 7));
        yield return Case("VIRTIOFWD_IPC_PORT_CONTROL=y", o => o.IpcPortControl, true);
        yield return Case("VIRTIOFWD_IPC_PORT_CONTROL=", o => o.IpcPortControl, false);
        yield return Case("VIRTIOFWD_OVSDB_SOCK_PATH=/var/run/openvswitch/db.sock", o => o.OvsdbSocket, "/var/run/openvswitch/db.sock");
        yield return Case("VIRTIOFWD_OVSDB_SOCK_PATH=tcp:127.0.0.1:6640", o => o.OvsdbSocket, "tcp:127.0.0.1:6640");
        yield return Case("VIRTIOFWD_OVSDB_SOCK_PATH=", o => o.OvsdbSocket, VirtioForwarderOptions.DefaultOvsdbSocket);
        yield return Case("VIRTIOFWD_JUMBO=y", o => o.Jumbo, true);
        yield return Case("VIRTIOFWD_JUMBO=no", o => o.Jumbo, false);
        yield return Case("VIRTIOFWD_MRGBUF=yes", o => o.MergeableBuffers, true);
        yield return Case("VIRTIOFWD_TSO=true", o => o.Tso, true);
        yield return Case("VIRTIOFWD_SOCKET_OWNER=qemu", o => o.SocketOwner, SocketAccount.Named("qemu"));
        yield return Case("VIRTIOFWD_SOCKET_OWNER=", o => o.SocketOwner, SocketAccount.DefaultOf("libvirt-qemu"));
        yield return Case("VIRTIOFWD_SOCKET_GROUP=qemu", o => o.SocketGroup, SocketAccount.Named("qemu"));
        yield return Case("VIRTIOFWD_SOCKET_GROUP=", o => o.SocketGroup, SocketAccount.DefaultOf("kvm"));
        yield return Case("VIRTIOFWD_HUGETLBFS_MOUNT_POINT=/dev/hugepages", o => o.HugepageDirectory, "/dev/hugepages");
        yield return Case("VIRTIOFWD_DYNAMIC_SOCKETS=1", o => o.DynamicSockets, true);
        yield return Case("VIRTIOFWD_DYNAMIC_SOCKETS=false", o => o.DynamicSockets, false);
        yield return Case("VIRTIOFWD_CPU_NIC_SAME_NUMA=on", o => o.SameNuma, true);
        yield return Case("VIRTIOFWD_VFIO_VF_TOKEN=0", o => o.VfioVfToken, VirtioForwarderOptions.DefaultVfioVfToken);
        yield return Case("VIRTIOFWD_VFIO_VF_TOKEN=8f2c5a5e-2d1b-4a7e-9c1d-3e5f6a7b8c9d", o => o.VfioVfToken, "8f2c5a5e-2d1b-4a7e-9c1d-3e5f6a7b8c9d");
        yield return Case("VIRTIOFWD_VFIO_VF_TOKEN=", o => o.VfioVfToken, null);
        yield return Case("VIRTIOFWD_PID_DIR=/run", o => o.PidFile, "/run/virtio-forwarder.pid");
        yield return Case("VIRTIOFWD_ZMQ_CONFIG_EP=ipc:///run/vf/config", o => o.ZmqConfigEndpoint, "ipc:///run/vf/config");
        yield return Case("VIRTIOFWD_ZMQ_CONFIG_EP=", o => o.ZmqConfigEndpoint, null);
        yield return Case("VIRTIOFWD_ZMQ_PORT_CONTROL_EP=ipc:///var/run/virtio-forwarder/port_control", o => o.ZmqPortControlEndpoint, "ipc:///var/run/virtio-forwarder/port_control");
        yield return Case("VIRTIOFWD_ZMQ_STATS_EP=tcp://127.0.0.1:5555", o => o.ZmqStatsEndpoint, "tcp://127.0.0.1:5555");
        yield return Case("VIRTIOFWD_ZMQ_CORE_SCHED_EP=ipc:///run/cs", o => o.ZmqCoreSchedEndpoint, null);
        yield return Case("VIO4WD_CORE_SCHED_ENABLE=true\nVIRTIOFWD_ZMQ_CORE_SCHED_EP=ipc:///run/cs", o => o.ZmqCoreSchedEndpoint, "ipc:///run/cs");
        yield return Case("VIO4WD_CORE_SCHED_ENABLE=true\nVIRTIOFWD_ZMQ_CORE_SCHED_EP=ipc:///run/cs", o => o.ZmqStatsEndpoint, VirtioForwarderOptions.DefaultZmqStatsEndpoint);
        yield return Case("VIO4WD_CORE_SCHED_ENABLE=false\nVIRTIOFWD_ZMQ_CORE_SCHED_EP=ipc:///run/cs", o => o.ZmqCoreSchedEndpoint, null);
        yield return Case("VIRTIOFWD_SOCKET_DIR=/tmp/virtio-forwarder", o => o.SocketPathOf(3), "/tmp/virtio-forwarder/virtio-forwarder3.sock");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=vm%u.sock", o => o.SocketPathOf(12), "/tmp/virtio-forwarder/vm12.sock");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=", o => o.SocketNameTemplate, "virtio-forwarder%u.sock");
        yield return Case("VIRTIOFWD_BINARY=/usr/bin/virtio-forwarder", o => o.LogLevel, 6);
        yield return Case("VIRTIOFWD_VHOST_CLIENT=y", o => o.VhostClientMode, true);
        yield return Case("VIRTIOFWD_ZERO_COPY=y", o => o.ZeroCopy, true);
        yield return Case("VIRTIOFWD_BIND_VFIO_PCI=0000:05:08.1,05:08.2,eth4,eth5:2", o => string.Join('|', o.BindVfioPci), "0000:05:08.1|05:08.2|eth4|eth5:2");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"--no-huge -m 1024 --vdev 'net_tap0,iface=a'\"", o => string.Join('|', o.ExtraEalArguments), "--no-huge|-m|1024|--vdev|net_tap0,iface=a");
        yield return Case("VIRTIOFWD_CONTROL_SOCK=/run/v/ctl.sock", o => o.ControlSocket, "/run/v/ctl.sock");
        yield return Case("VIO4WD_CORE_SCHED_SENSITIVITY=0.5", o => o.CoreScheduler.Sensitivity, 0.5);
        yield return Case("VIO4WD_CORE_SCHED_LOAD_MODEL=original", o => o.CoreScheduler.LoadModel, "original");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"--lcores=0@0,1@1,2@0 --no-huge\"", o => string.Join(' ', o.ExtraEalArguments), "--lcores=0@0,1@1,2@0 --no-huge");
        yield return Case("VIO4WD_CORE_SCHED_LOAD_MODEL=", o => o.CoreScheduler.LoadModel, "measured");
        yield return Case("VIO4WD_CORE_SCHED_LOG_LEVEL=3", o => o.CoreScheduler.LogLevel, 3);
        yield return Case("VIO4WD_CORE_SCHED_POLL_INTERVAL=2.5", o => o.CoreScheduler.PollIntervalSeconds, 2.5);
        yield return Case("VIO4WD_CORE_SCHED_GLOBAL_NUMA_OPT=y", o => o.CoreScheduler.GlobalNumaOptimisation, true);

        // The three documented VIRTIOFWD_STATIC_VFS forms, and DPDK device strings split at the last '='.
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:05:08.1=1", StaticVfs, "0000:05:08.1=1");
        yield return Case("VIRTIOFWD_STATIC_VFS=(0000:05:08.1=1)", StaticVfs, "0000:05:08.1=1");
        yield return Case("VIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 0000:05:08.2=2 0000:05:08.3=3)", StaticVfs, "0000:05:08.1=1 0000:05:08.2=2 0000:05:08.3=3");
        yield return Case("VIRTIOFWD_STATIC_VFS=(\n  0000:05:08.1=1\n  0000:05:08.2=2\n)", StaticVfs, "0000:05:08.1=1 0000:05:08.2=2");
        yield return Case("VIRTIOFWD_STATIC_VFS=\"0000:05:08.1=1 0000:05:08.2=2\"", StaticVfs, "0000:05:08.1=1 0000:05:08.2=2");
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:0A:1f.7=31", StaticVfs, "0000:0a:1f.7=31");
        yield return Case("VIRTIOFWD_STATIC_VFS=05:08.1=0", StaticVfs, "0000:05:08.1=0");
        yield return Case("VIRTIOFWD_STATIC_VFS=net_tap0,iface=vf0=3", StaticVfs, "net_tap0,iface=vf0=3");
        yield return Case("VIRTIOFWD_STATIC_VFS=('net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap=0')", StaticVfs, "net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap=0");
        yield return Case("VIRTIOFWD_STATIC_VFS=", StaticVfs, string.Empty);

        // VIRTIOFWD_CPU_PINS: <relay>:<cpu> pins both directions; <relay>:<a>,<b> is VF->VM on a, VM->VF on b.
        yield return Case("VIRTIOFWD_CPU_PINS=1:2", Pins, "1:2/2");
        yield return Case("VIRTIOFWD_CPU_PINS=1:2,1", Pins, "1:2/1");
        yield return Case("VIRTIOFWD_CPU_PINS=\"1:1;2:2,1;31:2\"", Pins, "1:1/1 2:2/1 31:2/2");
        yield return Case("VIRTIOFWD_CPU_PINS=(1:1 2:2,1)", Pins, "1:1/1 2:2/1");
        yield return Case("VIRTIOFWD_CPU_PINS=\"1:1;\"", Pins, "1:1/1");
    }

    private static string StaticVfs(VirtioForwarderOptions o) => string.Join(' ', o.StaticVfs.Select(v => $"{v.Device}={v.RelayId}"));

    private static string Pins(VirtioForwarderOptions o) => string.Join(' ', o.CpuPins.Select(p => $"{p.RelayId}:{p.VfToVmCpu}/{p.VmToVfCpu}"));

    [TestCaseSource(nameof(FileVariables))]
    public void Reads_every_variable_of_the_config_file(string lines, Func<VirtioForwarderOptions, object?> read, object? expected)
    {
        Assert.That(read(Valid(Baseline + lines + "\n")), Is.EqualTo(expected));
    }

    private static IEnumerable<TestCaseData> CommandLineOptions()
    {
        static TestCaseData Case(string args, Func<VirtioForwarderOptions, object?> read, object? expected) =>
            new TestCaseData(args.Split(' '), read, expected).SetArgDisplayNames(args);

        foreach (string cpus in new[] { "--cpus=1,2", "--cpus 1,2", "-C1,2", "-C 1,2", "-C 0x6", "--cpu=1,2" })
        {
            yield return Case(cpus, o => o.WorkerCpus.ToString(), "1,2");
        }

        foreach ((string longForm, string shortForm, Func<VirtioForwarderOptions, object?> read, object? expected) in new (string, string, Func<VirtioForwarderOptions, object?>, object?)[]
        {
            ("--master-lcore=3", "-M3", o => o.MainLcore, 3),
            ("--loglevel=7", "-l7", o => o.LogLevel, 7),
            ("--pid-path=/run", "-p/run", o => o.PidDirectory, "/run"),
            ("--huge-dir=/dev/hugepages", "-H/dev/hugepages", o => o.HugepageDirectory, "/dev/hugepages"),
            ("--ovsdb-sock=/run/db.sock", "-O/run/db.sock", o => o.OvsdbSocket, "/run/db.sock"),
            ("--ipc", "-I", o => o.IpcPortControl, true),
            ("--zmq-config-ep", "-Y", o => o.ZmqConfigEndpoint, VirtioForwarderOptions.DefaultZmqConfigEndpoint),
            ("--zmq-config-ep=ipc:///run/c", "-Yipc:///run/c", o => o.ZmqConfigEndpoint, "ipc:///run/c"),
            ("--zmq-port-control-ep", "-Z", o => o.ZmqPortControlEndpoint, VirtioForwarderOptions.DefaultZmqPortControlEndpoint),
            ("--zmq-stats-ep", "-z", o => o.ZmqStatsEndpoint, VirtioForwarderOptions.DefaultZmqStatsEndpoint),
            ("--zmq-core-sched-ep", "-s", o => o.ZmqCoreSchedEndpoint, VirtioForwarderOptions.DefaultZmqCoreSchedEndpoint),
            ("--zmq-core-sched-ep", "-s", o => o.ZmqStatsEndpoint, VirtioForwarderOptions.DefaultZmqStatsEndpoint),
            ("--vhost-username=qemu", "-uqemu", o => o.SocketOwner, SocketAccount.Named("qemu")),
            ("--vhost-username", "-u", o => o.SocketOwner, SocketAccount.InheritFromProcess),
            ("--vhost-groupname=qemu", "-gqemu", o => o.SocketGroup, SocketAccount.Named("qemu")),
            ("--vhost-groupname", "-g", o => o.SocketGroup, SocketAccount.InheritFromProcess),
            ("--vhost-path=/run/vio", "-V/run/vio", o => o.SocketDirectory, "/run/vio"),
            ("--vhost-socket=vm%u.sock", "-Svm%u.sock", o => o.SocketNameTemplate, "vm%u.sock"),
            ("--virtio-cpu=1:2,1", "-c1:2,1", Pins, "1:2/1"),
            ("--enable-jumbo", "-J", o => o.Jumbo, true),
            ("--enable-mrgbuf", "-R", o => o.MergeableBuffers, true),
            ("--add-pci-vf=0000:05:08.1=1", "-P0000:05:08.1=1", StaticVfs, "0000:05:08.1=1"),
            ("--vfio-vf-token=0", "-t0", o => o.VfioVfToken, VirtioForwarderOptions.DefaultVfioVfToken),
            ("--vhostuser-client", "-i", o => o.VhostClientMode, true),
            ("--zero-copy", "-0", o => o.ZeroCopy, true),
            ("--enable-tso", "-T", o => o.Tso, true),
            ("--dynamic-sockets", "-d", o => o.DynamicSockets, true),
            ("--same-numa", "-a", o => o.SameNuma, true),
            ("--nodaemon", "-n", o => (o.Daemonize, o.LogDestination), (false, LogDestination.Console)),
            ("--nodaemon=log_syslog", "-nlog_syslog", o => (o.Daemonize, o.LogDestination), (false, LogDestination.Syslog)),
        })
        {
            yield return Case($"-C 1,2 {longForm}", read, expected);
            yield return Case($"-C 1,2 {shortForm}", read, expected);
        }

        yield return Case("-C 1,2 -JR", o => (o.Jumbo, o.MergeableBuffers), (true, true));
        yield return Case("-C 1,2 -P 0000:05:08.1=1 -P net_tap0,iface=vf0=2", StaticVfs, "0000:05:08.1=1 net_tap0,iface=vf0=2");
        yield return Case("-C 1,2 -c 1:1;2:2 -c 3:1,2", Pins, "1:1/1 2:2/2 3:1/2");
        yield return Case("-C 1,2 --eal-args=--no-huge", o => string.Join('|', o.ExtraEalArguments), "--no-huge");
        yield return Case("-C 1,2 --control-sock /run/x.sock", o => o.ControlSocket, "/run/x.sock");
        yield return Case("-C 1,2 --loglevel 3 --loglevel 5", o => o.LogLevel, 5);
        // vio4wd's additions take no abbreviation of the original's options away.
        yield return Case("-C 1,2 --vhost-sock=vio%u.sock", o => o.SocketNameTemplate, "vio%u.sock");
        yield return Case("-C 1,2 --extra-socket-dir /run/a --extra=/run/b", o => string.Join(' ', o.VhostSocketDirectories), "/run/a /run/b");
        yield return Case("-C 1,2 --state-dir /var/lib/x", o => o.StateDirectory, "/var/lib/x");
        yield return Case("-C 1,2 --state-dir=", o => o.StateDirectory, null);
    }

    [TestCaseSource(nameof(CommandLineOptions))]
    public void Reads_every_option_of_the_daemon_command_line(string[] args, Func<VirtioForwarderOptions, object?> read, object? expected)
    {
        Assert.That(read(Valid(null, args)), Is.EqualTo(expected));
    }

    [Test]
    public void Command_line_overrides_the_file_and_replaces_its_lists()
    {
        string file = "VIRTIOFWD_CPU_MASK=1,2\nVIRTIOFWD_LOG_LEVEL=4\nVIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 0000:05:08.2=2)\n";
        VirtioForwarderOptions o = Valid(file, "-C", "3", "-P", "0000:05:08.3=3");
        Assert.Multiple(() =>
        {
            Assert.That(o.WorkerCpus.ToString(), Is.EqualTo("3"));
            Assert.That(o.LogLevel, Is.EqualTo(4));
            Assert.That(StaticVfs(o), Is.EqualTo("0000:05:08.3=3"));
            Assert.That(o.ConfigFile, Is.EqualTo("cfg"));
        });
    }

    [Test]
    public void Unknown_variables_are_warned_about_with_a_suggestion()
    {
        LoadedConfiguration loaded = Load(Baseline + "VIRTIOFWD_CPU_MAKS=1\nOTHER_TOOL_SETTING=1\n");
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Options, Is.Not.Null);
            Assert.That(loaded.Diagnostics.Warnings, Is.EqualTo(new[] { "cfg:3: unknown variable VIRTIOFWD_CPU_MAKS is ignored (did you mean VIRTIOFWD_CPU_MASK?)" }));
        });
    }

    [Test]
    public void Settings_nothing_acts_on_are_warned_about_not_shown_as_taking_effect()
    {
        LoadedConfiguration loaded = Load(Baseline + "VIRTIOFWD_ZERO_COPY=y\nVIRTIOFWD_BINARY=/opt/vf\n");
        LoadedConfiguration quiet = Load(Baseline + "VIRTIOFWD_ZERO_COPY=\n");
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Diagnostics.Warnings, Is.EqualTo(new[]
            {
                "VIRTIOFWD_ZERO_COPY (--zero-copy) has no effect: DPDK 20.11 and later have no dequeue zero-copy",
                "VIRTIOFWD_BINARY has no effect: the systemd units run /usr/bin/virtio-forwarder (a drop-in's ExecStart= changes it)",
            }));
            Assert.That(quiet.Diagnostics.Warnings, Is.Empty);
        });
    }

    private const string CpuForms = "expected a list of CPU numbers or ranges (e.g. 1,2 or 2-5) or a hex mask starting with 0x (e.g. 0x6)";
    private const string VfForm = "expected <device>=<relay>, where <device> is a PCI address (dddd:bb:dd.f) or a DPDK device string and <relay> a relay id";
    private const string PinForm = "expected <relay>:<cpu> or <relay>:<cpu>,<cpu> entries separated by ';' (e.g. 1:2 or 1:2,3)";
    private const string TemplateRule = "expected a file name with exactly one %u for the relay id, no other '%', no '/', and no digit right after %u";

    private static IEnumerable<TestCaseData> BadFileLines()
    {
        static TestCaseData Case(string line, string error) => new TestCaseData(line, error).SetArgDisplayNames(line);

        yield return Case("VIRTIOFWD_CPU_MASK=1,x", $"cfg:3: VIRTIOFWD_CPU_MASK='1,x': 'x' is not a CPU number or range; {CpuForms}");
        yield return Case("VIRTIOFWD_CPU_MASK=0x", $"cfg:3: VIRTIOFWD_CPU_MASK='0x': {CpuForms}");
        yield return Case("VIRTIOFWD_CPU_MASK=0xZZ", $"cfg:3: VIRTIOFWD_CPU_MASK='0xZZ': {CpuForms}");
        yield return Case("VIRTIOFWD_CPU_MASK=0x0", $"cfg:3: VIRTIOFWD_CPU_MASK='0x0': no CPU is selected; {CpuForms}");
        yield return Case("VIRTIOFWD_CPU_MASK=200", "cfg:3: VIRTIOFWD_CPU_MASK='200': CPU 200 is out of range: CPUs are 0 to 127 with this DPDK build");
        yield return Case("VIRTIOFWD_CPU_MASK=5-3", $"cfg:3: VIRTIOFWD_CPU_MASK='5-3': '5-3' is not an ascending CPU range; {CpuForms}");
        yield return Case("VIRTIOFWD_LOG_LEVEL=8", "cfg:3: VIRTIOFWD_LOG_LEVEL='8': expected an integer from 0 to 7");
        yield return Case("VIRTIOFWD_LOG_LEVEL=debug", "cfg:3: VIRTIOFWD_LOG_LEVEL='debug': expected an integer from 0 to 7");
        yield return Case("VIRTIOFWD_LOG_LEVEL=(6 7)", "cfg:3: VIRTIOFWD_LOG_LEVEL: takes a single value, not an array of 2");
        yield return Case("VIRTIOFWD_MASTER_LCORE=1", "cfg:3: VIRTIOFWD_MASTER_LCORE='1': the main lcore must not be one of the worker CPUs (1,2)");
        yield return Case("VIRTIOFWD_MASTER_LCORE=-1", "cfg:3: VIRTIOFWD_MASTER_LCORE='-1': expected an integer from 0 to 127");
        yield return Case("VIRTIOFWD_CPU_PINS=1:5", "cfg:3: VIRTIOFWD_CPU_PINS='1:5': CPU 5 is not one of the worker CPUs (1,2)");
        yield return Case("VIRTIOFWD_CPU_PINS=32:1", "cfg:3: VIRTIOFWD_CPU_PINS='32:1': relay 32 is out of range: relays are 0 to 31 (VIRTIOFWD_MAX_RELAYS)");
        yield return Case("VIRTIOFWD_MAX_RELAYS=33", "cfg:3: VIRTIOFWD_MAX_RELAYS='33': expected an integer from 1 to 32");
        yield return Case("VIRTIOFWD_MAX_RELAYS=0", "cfg:3: VIRTIOFWD_MAX_RELAYS='0': expected an integer from 1 to 32");
        yield return Case("VIRTIOFWD_CPU_PINS=1-2", $"cfg:3: VIRTIOFWD_CPU_PINS='1-2': {PinForm}");
        yield return Case("VIRTIOFWD_CPU_PINS=-1:1", $"cfg:3: VIRTIOFWD_CPU_PINS='-1:1': {PinForm}");
        yield return Case("VIRTIOFWD_CPU_PINS=\"1:1;1:2\"", "cfg:3: VIRTIOFWD_CPU_PINS='1:2': relay 1 is pinned more than once");
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:05:08.1", $"cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08.1': {VfForm}");
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:05:08.1=32", "cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08.1=32': relay 32 is out of range: relays are 0 to 31 (VIRTIOFWD_MAX_RELAYS)");
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:05:08.1=x", "cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08.1=x': relay id 'x' is not a non-negative integer");
        yield return Case("VIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 0000:05:08.2=1)", "cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08.2=1': relay 1 is already given to device '0000:05:08.1'");
        yield return Case("VIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 05:08.1=2)", "cfg:3: VIRTIOFWD_STATIC_VFS='05:08.1=2': device '0000:05:08.1' is already relayed on relay 1");
        yield return Case("VIRTIOFWD_STATIC_VFS=0000:05:08=1", "cfg:3: VIRTIOFWD_STATIC_VFS='0000:05:08=1': device '0000:05:08': expected a PCI address (dddd:bb:dd.f or bb:dd.f) or a DPDK device string (e.g. net_tap0,iface=vf0)");
        yield return Case("VIRTIOFWD_STATIC_VFS=net_tap0,,x=1", "cfg:3: VIRTIOFWD_STATIC_VFS='net_tap0,,x=1': device 'net_tap0,,x': device arguments must be comma-separated key=value pairs");
        yield return Case("VIRTIOFWD_JUMBO=maybe", "cfg:3: VIRTIOFWD_JUMBO='maybe': expected y, yes, true, 1 or on to enable, or n, no, false, 0 or off to disable (empty means not set)");
        yield return Case("VIRTIOFWD_VFIO_VF_TOKEN=abc", $"cfg:3: VIRTIOFWD_VFIO_VF_TOKEN='abc': expected 0 (the default token) or a UUID such as {VirtioForwarderOptions.DefaultVfioVfToken}");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=vf%s.sock", $"cfg:3: VIRTIOFWD_SOCKET_FNAME_PATTERN='vf%s.sock': {TemplateRule}");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=vf.sock", $"cfg:3: VIRTIOFWD_SOCKET_FNAME_PATTERN='vf.sock': {TemplateRule}");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=vf%u%u.sock", $"cfg:3: VIRTIOFWD_SOCKET_FNAME_PATTERN='vf%u%u.sock': {TemplateRule}");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=vf%u1.sock", $"cfg:3: VIRTIOFWD_SOCKET_FNAME_PATTERN='vf%u1.sock': {TemplateRule}");
        yield return Case("VIRTIOFWD_SOCKET_FNAME_PATTERN=a/vf%u", $"cfg:3: VIRTIOFWD_SOCKET_FNAME_PATTERN='a/vf%u': {TemplateRule}");
        yield return Case("VIRTIOFWD_ZMQ_PORT_CONTROL_EP=ipc://run/pc", "cfg:3: VIRTIOFWD_ZMQ_PORT_CONTROL_EP='ipc://run/pc': the ipc:// endpoint needs an absolute socket path (expected an absolute path)");
        yield return Case("VIRTIOFWD_ZMQ_STATS_EP=udp://x:1", "cfg:3: VIRTIOFWD_ZMQ_STATS_EP='udp://x:1': expected ipc:///<absolute path> or tcp://<address>:<port>");
        yield return Case("VIRTIOFWD_ZMQ_CONFIG_EP=tcp://127.0.0.1:99999", "cfg:3: VIRTIOFWD_ZMQ_CONFIG_EP='tcp://127.0.0.1:99999': expected ipc:///<absolute path> or tcp://<address>:<port>");
        yield return Case("VIRTIOFWD_PID_DIR=run", "cfg:3: VIRTIOFWD_PID_DIR='run': expected an absolute path");
        yield return Case("VIRTIOFWD_HUGETLBFS_MOUNT_POINT=huge", "cfg:3: VIRTIOFWD_HUGETLBFS_MOUNT_POINT='huge': expected an absolute path");
        yield return Case("VIRTIOFWD_SOCKET_DIR=/" + new string('d', 90), $"cfg:3: VIRTIOFWD_SOCKET_DIR='/{new string('d', 90)}': socket path '/{new string('d', 90)}/virtio-forwarder31.sock' is longer than the 107 bytes a unix socket path may have");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"-l 0-1\"", "cfg:3: VIRTIOFWD_EAL_ARGS='-l 0-1': '-l' sets the EAL's CPUs, which come from VIRTIOFWD_CPU_MASK and VIRTIOFWD_MASTER_LCORE; set those instead");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"--lcores=0@0,1@1,3@1\"", "cfg:3: VIRTIOFWD_EAL_ARGS='--lcores=0@0,1@1,3@1': --lcores '0@0,1@1,3@1' maps lcores 0,1,3, but the workers (VIRTIOFWD_CPU_MASK) and the main lcore are 0,1,2");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"--lcores x@1\"", "cfg:3: VIRTIOFWD_EAL_ARGS='--lcores x@1': --lcores 'x@1': give LCORE@CPU entries separated by commas (e.g. 0@0,1@1,2@1), not 'x@1'");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"--main-lcore=1\"", "cfg:3: VIRTIOFWD_EAL_ARGS='--main-lcore=1': '--main-lcore=1' sets the EAL's CPUs, which come from VIRTIOFWD_CPU_MASK and VIRTIOFWD_MASTER_LCORE; set those instead");
        yield return Case("VIRTIOFWD_EAL_ARGS=\"'unbalanced\"", "cfg:3: VIRTIOFWD_EAL_ARGS=''unbalanced': missing closing single quote");
        yield return Case("VIRTIOFWD_SOCKET_OWNER='bad user'", "cfg:3: VIRTIOFWD_SOCKET_OWNER='bad user': expected a user name (letters, digits, '_', '-', '.', at most 32 characters) or a numeric id");
        yield return Case("VIRTIOFWD_SOCKET_GROUP=k:vm", "cfg:3: VIRTIOFWD_SOCKET_GROUP='k:vm': expected a group name (letters, digits, '_', '-', '.', at most 32 characters) or a numeric id");
        yield return Case("VIRTIOFWD_OVSDB_SOCK_PATH=db.sock", "cfg:3: VIRTIOFWD_OVSDB_SOCK_PATH='db.sock': expected a socket path, unix:<path> or tcp:<address>:<port>");
        yield return Case("VIRTIOFWD_CONTROL_SOCK=ctl.sock", "cfg:3: VIRTIOFWD_CONTROL_SOCK='ctl.sock': expected an absolute path");
        yield return Case("VIRTIOFWD_IPC_PORT_CONTROL=sure", "cfg:3: VIRTIOFWD_IPC_PORT_CONTROL='sure': expected y, yes, true, 1 or on to enable, or n, no, false, 0 or off to disable (empty means not set)");
        yield return Case("VIO4WD_CORE_SCHED_SENSITIVITY=-1", "cfg:3: VIO4WD_CORE_SCHED_SENSITIVITY='-1': expected a number at least 0");
        yield return Case("VIO4WD_CORE_SCHED_LOAD_MODEL=guess", "cfg:3: VIO4WD_CORE_SCHED_LOAD_MODEL='guess': expected measured or original");
        yield return Case("VIO4WD_CORE_SCHED_POLL_INTERVAL=0", "cfg:3: VIO4WD_CORE_SCHED_POLL_INTERVAL='0': expected a number greater than 0");
        yield return Case("VIRTIOFWD_BIND_VFIO_PCI=0000:05:08.1,bad/name", "cfg:3: VIRTIOFWD_BIND_VFIO_PCI='0000:05:08.1,bad/name': 'bad/name' is neither a PCI address (dddd:bb:dd.f or bb:dd.f) nor netdev[:count]");
        yield return Case("VIRTIOFWD_JUMBO=y y", "cfg:3: VIRTIOFWD_JUMBO: unexpected 'y' after the value; quote values that contain spaces");
    }

    [TestCaseSource(nameof(BadFileLines))]
    public void A_bad_config_line_gets_one_exact_error_and_changes_nothing_else(string line, string error)
    {
        LoadedConfiguration baseline = Load(Baseline);
        LoadedConfiguration bad = Load(Baseline + line + "\n");
        Assert.Multiple(() =>
        {
            Assert.That(bad.Diagnostics.Errors, Is.EqualTo(new[] { error }));
            Assert.That(bad.Diagnostics.Warnings, Is.Empty);
            Assert.That(bad.Options, Is.Null, "no options may come out of a configuration with errors");

            // Every other setting was read exactly as without the bad line.
            SettingKey? badKey = SettingCatalog.ByVariable(line[..line.IndexOf('=', StringComparison.Ordinal)])?.Key;
            Assert.That(Describe(bad.Raw, badKey), Is.EquivalentTo(Describe(baseline.Raw, badKey)));
        });
    }

    private static IEnumerable<string> Describe(IReadOnlyDictionary<SettingKey, RawSetting> raw, SettingKey? except) =>
        raw.Where(r => r.Key != except).Select(r => $"{r.Key}={string.Join('|', r.Value.Values)} from {r.Value.Source.Origin}");

    [TestCase("--cpus", "option '--cpus' requires an argument")]
    [TestCase("-C", "option requires an argument -- 'C'")]
    [TestCase("-C 1,2 --ipc=yes", "option '--ipc' doesn't allow an argument")]
    [TestCase("-C 1,2 --bogus", "unrecognized option '--bogus'")]
    [TestCase("-C 1,2 -q", "invalid option -- 'q'")]
    [TestCase("-C 1,2 --vhost=x", "option '--vhost' is ambiguous; possibilities: '--vhost-username' '--vhost-groupname' '--vhost-path' '--vhost-socket' '--vhostuser-client'")]
    [TestCase("-C 1,2 stray", "unexpected argument 'stray'")]
    [TestCase("-C 1,2 -- stray", "unexpected argument 'stray'")]
    [TestCase("-C 1,2 -P 0000:05:08.1=1 -P 0000:05:08.2=1", "--add-pci-vf='0000:05:08.2=1': relay 1 is already given to device '0000:05:08.1'")]
    [TestCase("-C 1,2 -c 0:3", "--virtio-cpu='0:3': CPU 3 is not one of the worker CPUs (1,2)")]
    [TestCase("-C 1,2 --zmq-stats-ep=", "--zmq-stats-ep='': expected ipc:///<absolute path> or tcp://<address>:<port>")]
    [TestCase("-M 0", "VIRTIOFWD_CPU_MASK (--cpus) is not set: the worker CPUs are mandatory, e.g. VIRTIOFWD_CPU_MASK=1,2")]
    [TestCase("-C 0", "VIRTIOFWD_MASTER_LCORE (default)='0': the main lcore must not be one of the worker CPUs (0)")]
    public void A_bad_command_line_gets_one_exact_error(string args, string error)
    {
        LoadedConfiguration loaded = Load(null, args.Split(' '));
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Diagnostics.Errors, Is.EqualTo(new[] { error }));
            Assert.That(loaded.Options, Is.Null);
        });
    }

    [Test]
    public void Every_problem_is_reported_at_once()
    {
        LoadedConfiguration loaded = Load("VIRTIOFWD_CPU_MASK=x\nVIRTIOFWD_LOG_LEVEL=9\nVIRTIOFWD_JUMBO=maybe\n", "--pid-path=rel");
        Assert.That(loaded.Diagnostics.Errors, Has.Count.EqualTo(4));
    }

    [Test]
    public void An_unreadable_config_file_is_named()
    {
        LoadedConfiguration loaded = ConfigurationLoader.Load(["--config", "/nonexistent/vf", "-C", "1"], Limits, File.ReadAllText);
        Assert.That(loaded.Diagnostics.Errors.Single(), Does.StartWith("--config='/nonexistent/vf': cannot read the config file: "));
    }

    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("-?")]
    [TestCase("--version")]
    [TestCase("-v")]
    public void Help_and_version_need_no_mandatory_settings(string arg)
    {
        LoadedConfiguration loaded = Load(null, arg);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Diagnostics.Errors, Is.Empty);
            Assert.That(loaded.Command.Help || loaded.Command.Version, Is.True);
        });
    }
}
