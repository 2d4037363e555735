using Vio4wd.Contracts.ControlApi;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// Attacks on the daemon's inputs (issue 12), each performed against the real daemon: it refuses
/// them or shrugs them off, and healthy relays are not disturbed.
/// </summary>
[NonParallelizable]
public class HardeningTests() : DaemonTest("hard")
{
    [Test]
    public async Task A_pid_file_that_is_a_symbolic_link_is_refused_and_its_target_left_alone()
    {
        using var dir = new TempDirectory();
        string victim = dir.File("precious");
        await File.WriteAllTextAsync(victim, "precious\n");
        File.CreateSymbolicLink(dir.File("virtio-forwarder.pid"), victim);
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-p", dir.Path,
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("pidlink")}");
        Assert.Multiple(async () =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain($"the PID file {dir.File("virtio-forwarder.pid")} is a symbolic link; refusing to follow it"));
            Assert.That(await File.ReadAllTextAsync(victim), Is.EqualTo("precious\n"), "the link's target is not truncated");
        });
    }

    [TestCase("-u", "user")]
    [TestCase("-g", "group")]
    public async Task An_owner_id_of_any_size_is_a_clear_error_not_a_crash(string option, string kind)
    {
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", $"{option}9999999999",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("bigid")}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain($"socket {kind} id 9999999999 is out of range"));
            Assert.That(stderr, Does.Not.Contain("Unhandled exception"));
        });
    }

    [Test]
    public async Task Sigusr1_sigusr2_and_a_sighup_during_start_up_do_not_kill_the_daemon()
    {
        using var sockets = new TempDirectory();
        string config = sockets.File("virtioforwarder");
        await File.WriteAllTextAsync(config, $"VIRTIOFWD_CPU_MASK=1\nVIRTIOFWD_STATIC_VFS=(net_null0=0)\nVIRTIOFWD_DYNAMIC_SOCKETS=y\n"
            + $"VIRTIOFWD_SOCKET_DIR={sockets.Path}\nVIRTIOFWD_EAL_ARGS=\"--no-huge -m 256 --no-pci --file-prefix={Prefix("signals")}\"\n");
        using DaemonProcess daemon = DaemonProcess.Start("--config", config, "--nodaemon");
        await daemon.WaitForOutputAsync("Starting virtio-forwarder", Patience);
        daemon.Signal("HUP");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        await daemon.WaitForOutputAsync("Configuration reloaded: ", Patience);
        daemon.Signal("USR1");
        daemon.Signal("USR2");
        await daemon.WaitForOutputAsync("SIGUSR2 received; ignored", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        RelayView? zero = await control.RelayAsync(0);
        Assert.Multiple(() =>
        {
            Assert.That(daemon.StandardOutput, Does.Contain("SIGUSR1 received; ignored"));
            Assert.That(zero?.Device, Is.EqualTo("net_null0"), "still relaying");
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    // Relay 3 (net_null0), the healthy one a bad row must not disturb: its generation now.
    private static async Task<long> HealthyRelayGenerationAsync(ControlClient control)
    {
        await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Device == "net_null0", "the healthy relay", Patience);
        return (await control.RelayAsync(3))!.Generation;
    }

    // Interface "evil" asks for relay 4 with the device; returns once its row tells the reason.
    private static async Task FlagEvilRowAsync(OvsdbServer ovsdb, string device, string reason)
    {
        await ovsdb.VsctlAsync("add-port", "br0", "evil", "--", "set", "interface", "evil",
            "external_ids:virtio_forwarder=1", $"external_ids:virtio_forwarder_dev=\"{device}\"", "external_ids:virtio_forwarder_relay=4");
        await Eventually.UntilAsync(async () => (await ovsdb.VsctlAsync("--if-exists", "get", "interface", "evil", "external_ids:virtio_forwarder_state")).Contains(reason, StringComparison.Ordinal),
            "the row's reason", Patience);
    }

    [TestCase("net_null9;net_null8", "a device string cannot contain ';'")]
    [TestCase("long", "a device string has at most 511 characters, not 600")]
    [TestCase("bus", "'bus' is a DPDK devargs keyword, not a device")] // DPDK's parser crashed on it (fuzzing)
    public async Task A_device_string_the_dataplane_would_cut_or_split_is_refused_at_input(string device, string reason)
    {
        if (device == "long")
        {
            device = "net_null9,x=" + new string('a', 600 - "net_null9,x=".Length);
        }

        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        await ovsdb.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "good", "--", "set", "interface", "good",
            "external_ids:virtio_forwarder=1", "external_ids:virtio_forwarder_dev=net_null0", "external_ids:virtio_forwarder_relay=3");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--dynamic-sockets", "-V", sockets.Path, "-O", ovsdb.Endpoint,
            "--allow-runtime-devargs", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("devstr")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        long generation = await HealthyRelayGenerationAsync(control);
        await FlagEvilRowAsync(ovsdb, device, reason);
        IReadOnlyList<RejectedRequest> rejected = await control.Api.RejectedAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(await control.RelayAsync(4), Is.Null, "no relay is made of it");
            Assert.That(rejected.Select(r => r.Subject), Does.Contain("interface evil"));
            Assert.That((await control.RelayAsync(3))!.Generation, Is.EqualTo(generation), "the healthy relay is untouched");
        });
    }

    // Without --allow-runtime-devargs an OVSDB writer cannot hand DPDK a device string: net_pcap's
    // tx_pcap truncated the named file, iface= bridged a VM onto a host NIC.
    [TestCase("net_pcap9,tx_pcap={victim}")]
    [TestCase("net_pcap8,iface=lo")]
    [TestCase("0000:05:08.1,representor=[0-3]")]
    public async Task An_ovsdb_row_naming_a_dpdk_device_string_is_refused_and_opens_nothing(string device)
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var sockets = new TempDirectory();
        string victim = sockets.File("precious");
        await File.WriteAllTextAsync(victim, "precious\n");
        device = device.Replace("{victim}", victim, StringComparison.Ordinal);
        await ovsdb.VsctlAsync("add-br", "br0");
        // The healthy relay comes from the config file, which may name vdevs.
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--dynamic-sockets", "-V", sockets.Path, "-O", ovsdb.Endpoint,
            "-P", "net_null0=3", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("devargs")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        long generation = await HealthyRelayGenerationAsync(control);
        await FlagEvilRowAsync(ovsdb, device, "runtime sources take PCI addresses only");
        Assert.Multiple(async () =>
        {
            Assert.That(await control.RelayAsync(4), Is.Null, "no relay is made of it");
            Assert.That(await File.ReadAllTextAsync(victim), Is.EqualTo("precious\n"), "the named file is not touched");
            Assert.That((await control.RelayAsync(3))!.Generation, Is.EqualTo(generation), "the healthy relay is untouched");
        });
    }

    // A pyzmq REQ client with a CURVE key pair; prints the answer's length, or nothing on timeout.
    private static async Task<int?> CurveRequestAsync(string endpoint, string serverPublic, (string Public, string Secret) client)
    {
        const string Script = """
            import sys, zmq
            s = zmq.Context().socket(zmq.REQ)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 5000)
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = (a.encode() for a in sys.argv[2:5])
            s.connect(sys.argv[1])
            s.send(b"")
            try:
                print(len(s.recv()))
            except zmq.Again:
                pass
            """;
        using var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
            "/usr/bin/python3", ["-c", Script, endpoint, serverPublic, client.Public, client.Secret]) { RedirectStandardOutput = true })!;
        string output = (await python.StandardOutput.ReadToEndAsync()).Trim();
        await python.WaitForExitAsync();
        return output.Length == 0 ? null : int.Parse(output, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (string Public, string Secret) CurveKeyPair()
    {
        using var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
            "/usr/bin/python3", ["-c", "import zmq; p, s = zmq.curve_keypair(); print(p.decode()); print(s.decode())"]) { RedirectStandardOutput = true })!;
        string[] lines = python.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        python.WaitForExit();
        return (lines[0], lines[1]);
    }

    [Test]
    public async Task A_curve_client_whose_key_is_not_authorized_gets_nothing_from_a_tcp_endpoint()
    {
        using var dir = new TempDirectory();
        (string serverPublic, string serverSecret) = CurveKeyPair();
        (string Public, string Secret) operatorKeys = CurveKeyPair();
        await File.WriteAllTextAsync(dir.File("server.key"), serverSecret + "\n");
        Directory.CreateDirectory(dir.File("clients"));
        await File.WriteAllTextAsync(dir.File("clients/operator.key"), $"curve\n    public-key = \"{operatorKeys.Public}\"\n");
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        string endpoint = $"tcp://127.0.0.1:{port}";
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--dynamic-sockets", "-V", dir.File("sockets"), "-P", "net_null0=0",
            $"--zmq-stats-ep={endpoint}", "--zmq-curve-secret-key", dir.File("server.key"), "--zmq-curve-client-keys", dir.File("clients"),
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("zap")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);

        int? attacker = await CurveRequestAsync(endpoint, serverPublic, CurveKeyPair());
        await daemon.WaitForOutputAsync("refused a CURVE client from 127.0.0.1", Patience);
        int? authorized = await CurveRequestAsync(endpoint, serverPublic, operatorKeys);
        Assert.Multiple(() =>
        {
            Assert.That(attacker, Is.Null, "a client that knows the server's public key, with a key pair of its own");
            Assert.That(authorized, Is.GreaterThan(0), "the operator's key is served");
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task Curve_without_authorized_client_keys_is_a_configuration_error()
    {
        using var dir = new TempDirectory();
        (_, string serverSecret) = CurveKeyPair();
        await File.WriteAllTextAsync(dir.File("server.key"), serverSecret + "\n");
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-V", dir.File("sockets"),
            "--zmq-stats-ep=tcp://127.0.0.1:5999", "--zmq-curve-secret-key", dir.File("server.key"),
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("nokeys")}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain("VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE needs VIRTIOFWD_ZMQ_CURVE_CLIENT_KEYS"));
        });
    }

    // Finding 11: after a removal event the relay stayed DeviceRemoved forever. The VF here is a
    // pcap file: removed with the event (re-attaching fails while it is gone), then put back.
    [Test]
    public async Task A_removed_vf_is_reattached_with_backoff_once_it_is_back_and_other_relays_are_untouched()
    {
        using var dir = new TempDirectory();
        string vf = dir.File("vf.pcap");
        Pcap.Write(vf, Pcap.MakeFrames(16, _ => 64, seed: 11));
        using DaemonProcess daemon = DaemonProcess.Start(new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1" },
            "-C", "1", "--nodaemon", "--dynamic-sockets", "-V", dir.File("sockets"), "-P", $"net_pcap0,rx_pcap={vf}=0", "-P", "net_null1=1",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("unplug")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        using ControlClient control = await ControlClient.ConnectAsync();
        static string? DeviceReady(RelayView? relay) => relay?.Conditions.FirstOrDefault(c => c.Type == "DeviceReady") is { } c ? $"{c.Status}/{c.Reason}" : null;
        await Eventually.UntilAsync(async () => DeviceReady(await control.RelayAsync(0)) == "True/Attached", "relay 0's VF attached", Patience);
        long healthy = (await control.RelayAsync(1))!.Generation;

        File.Delete(vf);
        await Vioctl.HookAsync("test.deviceRemoved", 0);
        await daemon.WaitForOutputAsync("relay 0: device (port", Patience);
        await Eventually.UntilAsync(() => daemon.StandardOutput.Contains($"rx_pcap={vf} to relay 0 failed", StringComparison.Ordinal),
            "a re-attach tried and failed while the VF is gone", Patience);
        Assert.That(DeviceReady(await control.RelayAsync(0)), Does.StartWith("False/"), "not ready while the VF is gone\n" + daemon.StandardOutput);

        Pcap.Write(vf, Pcap.MakeFrames(16, _ => 64, seed: 12));
        await Eventually.UntilAsync(async () => DeviceReady(await control.RelayAsync(0)) == "True/Attached", "relay 0's VF back", Patience);
        Assert.That((await control.RelayAsync(1))!.Generation, Is.EqualTo(healthy), "relay 1 untouched");
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    // Finding 9: each frame of a multipart message was within libzmq's per-message cap, and the
    // daemon copied all of them into one buffer. libzmq itself holds a whole multipart message
    // before handing any part over (atomic delivery; no total cap exists there): the daemon keeps
    // at most its cap of it, answers the original's error and goes on.
    [Test]
    public async Task A_huge_multipart_zmq_request_gets_an_error_answer_and_the_daemon_goes_on()
    {
        using var dir = new TempDirectory();
        string zmq = dir.File("run");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "--dynamic-sockets", "-V", dir.File("sockets"), "-P", "net_null0=0",
            $"--zmq-stats-ep=ipc://{zmq}/stats", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("multipart")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        const string Script = """
            import sys, zmq
            s = zmq.Context().socket(zmq.REQ)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 60000)
            s.connect(sys.argv[1])
            s.send_multipart([b"x" * 100_000] * int(sys.argv[2]))
            print(s.recv().hex())
            """;
        async Task<string> AskAsync(int frames)
        {
            using var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
                "/usr/bin/python3", ["-c", Script, $"ipc://{zmq}/stats", frames.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
            string answer = (await python.StandardOutput.ReadToEndAsync()).Trim();
            await python.WaitForExitAsync();
            return answer;
        }

        const string Ebadr = "089003"; // StatsResponse { status: EBADR }
        Assert.That(await AskAsync(2000), Is.EqualTo(Ebadr), "200 MB in 2000 frames");
        Assert.That(await AskAsync(1), Is.EqualTo(Ebadr), "and the service goes on");
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }
}
