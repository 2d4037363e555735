using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

public class DaemonCommandLineTests
{
    private static readonly string[] OriginalLongOptions =
    [
        "cpus", "master-lcore", "nodaemon", "loglevel", "pid-path", "huge-dir", "ovsdb-sock", "zmq-config-ep",
        "zmq-port-control-ep", "zmq-stats-ep", "zmq-core-sched-ep", "ipc", "vhost-username", "vhost-groupname",
        "vhost-path", "vhost-socket", "virtio-cpu", "enable-jumbo", "enable-mrgbuf", "add-pci-vf", "vfio-vf-token",
        "vhostuser-client", "zero-copy", "enable-tso", "dynamic-sockets", "same-numa", "version",
    ];

    [Test]
    public async Task Version_prints_our_version_and_the_dpdk_version()
    {
        (int exitCode, string stdout, _) = await DaemonProcess.RunAsync("--version");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero);
            string[] lines = stdout.TrimEnd('\n').Split('\n');
            Assert.That(lines, Has.Length.EqualTo(2), stdout);
            Assert.That(lines[0], Does.Match(@"^Virtio-forwarder version \d+\.\d+\.\d+\S* \(DPDK \d+\.\d+\.\d+\)$"));
            // The DPDK it was built with, where that came from and the relays it allows, as build.sh made it.
            string origin = DpdkBuildFacts.IsDebiansOwn ? "Debian's libdpdk-dev" : "our build of Debian's source package";
            Assert.That(lines[^1], Is.EqualTo($"Built with DPDK {DpdkBuildFacts.PkgConfigVersion} ({origin}), up to {DpdkBuildFacts.MaxEthports} relays"));
        });
    }

    [Test]
    public async Task Help_lists_every_option_of_the_original_and_ours()
    {
        (int exitCode, string stdout, _) = await DaemonProcess.RunAsync("--help");
        Assert.That(exitCode, Is.Zero);
        Assert.Multiple(() =>
        {
            foreach (string option in OriginalLongOptions.Concat(["config", "check-config", "eal-args", "control-sock", "help"]))
            {
                Assert.That(stdout, Does.Contain($"--{option}"));
            }
        });
    }

    [Test]
    public async Task Check_config_accepts_the_shipped_config_file_and_prints_the_effective_settings()
    {
        (int exitCode, string stdout, string stderr) = await DaemonProcess.RunAsync("--check-config", "--config", "config/virtioforwarder");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, stderr);
            Assert.That(stdout, Does.Contain("VIRTIOFWD_CPU_MASK=1,2 "));
            Assert.That(stdout, Does.Contain("# config/virtioforwarder:"));
            Assert.That(stdout, Does.Contain("# port control: ZeroMQ at ipc:///var/run/virtio-forwarder/port_control"));
            Assert.That(stderr, Does.Not.Contain("error"));
        });
    }

    [Test]
    public async Task Check_config_output_is_itself_a_valid_config_file()
    {
        (_, string first, _) = await DaemonProcess.RunAsync("--check-config", "--config", "config/virtioforwarder");
        string copy = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(copy, first);
            (int exitCode, string second, string stderr) = await DaemonProcess.RunAsync("--check-config", "--config", copy);
            Assert.Multiple(() =>
            {
                Assert.That(exitCode, Is.Zero, stderr);
                Assert.That(Settings(second), Is.EqualTo(Settings(first)));
            });
        }
        finally
        {
            File.Delete(copy);
        }

        static IEnumerable<string> Settings(string output) =>
            output.Split('\n').Where(l => l.StartsWith("VIR", StringComparison.Ordinal) || l.StartsWith("VIO", StringComparison.Ordinal)).Select(l => l.Split(" #")[0].TrimEnd());
    }

    [Test]
    public async Task Check_config_lists_every_problem_and_exits_1()
    {
        string config = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(config, "VIRTIOFWD_CPU_MASK=1,2\nVIRTIOFWD_LOG_LEVEL=9\nVIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 0000:05:08.2=1)\n");
            (int exitCode, string stdout, string stderr) = await DaemonProcess.RunAsync("--check-config", "--config", config, "--vhost-socket=vf.sock");
            Assert.Multiple(() =>
            {
                Assert.That(exitCode, Is.EqualTo(1));
                Assert.That(stdout, Is.Empty);
                Assert.That(stderr.Split('\n'), Is.EqualTo(new[]
                {
                    $"virtio-forwarder: {config}:2: VIRTIOFWD_LOG_LEVEL='9': expected an integer from 0 to 7",
                    "virtio-forwarder: --vhost-socket='vf.sock': expected a file name with exactly one %u for the relay id, no other '%', no '/', and no digit right after %u",
                    $"virtio-forwarder: {config}:3: VIRTIOFWD_STATIC_VFS='0000:05:08.2=1': relay 1 is already given to device '0000:05:08.1'",
                    "Try 'virtio-forwarder --help' for more information.",
                }));
            });
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Test]
    public async Task A_bad_option_is_named_and_the_daemon_exits_1()
    {
        (int exitCode, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--enable-jumbo=yes");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(stderr, Does.StartWith("virtio-forwarder: option '--enable-jumbo' doesn't allow an argument\n"));
        });
    }

    [Test]
    public async Task Starting_with_a_bad_config_lists_every_problem_exits_1_and_starts_nothing()
    {
        string config = Path.GetTempFileName();
        string prefix = $"vio4wd-daemon-badstart-{Environment.ProcessId}";
        try
        {
            await File.WriteAllTextAsync(config, $"VIRTIOFWD_CPU_MASK=1\nVIRTIOFWD_LOG_LEVEL=9\nVIRTIOFWD_STATIC_VFS=(net_null0=0 net_null1=0)\nVIRTIOFWD_EAL_ARGS=\"--no-huge --file-prefix={prefix}\"\n");
            (int exitCode, _, string stderr) = await DaemonProcess.RunAsync("--config", config, "--nodaemon");
            Assert.Multiple(() =>
            {
                Assert.That(exitCode, Is.EqualTo(1));
                Assert.That(stderr, Does.Contain($"{config}:2: VIRTIOFWD_LOG_LEVEL='9'").And.Contain($"{config}:3: VIRTIOFWD_STATIC_VFS='net_null1=0': relay 0 is already given"));
                Assert.That(Directory.Exists($"/var/run/dpdk/{prefix}"), Is.False, "DPDK never started");
                Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False);
            });
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Test]
    public async Task An_unknown_control_socket_group_is_refused_before_anything_starts()
    {
        string prefix = $"vio4wd-daemon-badgroup-{Environment.ProcessId}";
        (int exitCode, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "--control-group", "no-such-group-vio4wd",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain("virtio-forwarder: control socket group 'no-such-group-vio4wd' does not exist"));
            Assert.That(Directory.Exists($"/var/run/dpdk/{prefix}"), Is.False, "DPDK never started");
        });
    }
}
