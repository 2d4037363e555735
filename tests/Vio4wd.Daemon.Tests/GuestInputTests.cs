using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// What a guest, or any process that reaches a vhost-user socket, can ask of the daemon
/// (issue 12, findings 7 and 8), tried through the real daemon with a testpmd VM beside.
/// </summary>
[NonParallelizable]
public class GuestInputTests() : DaemonTest("guest")
{
    private const int VhostUserGetFeatures = 1;
    private const int VirtioNetCsum = 0, HostTso4 = 11, HostTso6 = 12, HostEcn = 13, HostUfo = 14;

    /// <summary>
    /// Speaks vhost-user as a guest's QEMU would: sends <paramref name="messages"/> GET_FEATURES
    /// requests and returns the feature bits answered, or null when the daemon closed the connection.
    /// </summary>
    private static async Task<ulong?> GetFeaturesAsync(string socketPath, int messages = 1)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        byte[] request = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(request, VhostUserGetFeatures);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), 0x1); // version 1
        ulong? features = null;
        for (int i = 0; i < messages; i++)
        {
            try
            {
                await socket.SendAsync(request);
                byte[] reply = new byte[20];
                int got = 0;
                using var timeout = new CancellationTokenSource(Patience);
                while (got < reply.Length)
                {
                    int n = await socket.ReceiveAsync(reply.AsMemory(got), timeout.Token);
                    if (n == 0)
                    {
                        return null;
                    }

                    got += n;
                }

                features = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(12));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
            {
                return null;
            }
        }

        return features;
    }

    private static bool Has(ulong features, int bit) => (features & (1UL << bit)) != 0;

    [Test]
    public async Task Without_tso_guests_are_offered_no_offload_they_could_send_to_the_vf()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("offloads")}");
        string socket = dir.File("virtio-forwarder0.sock");
        // The file appears at bind(), a moment before listen(): wait for the relay's pass instead.
        await daemon.WaitForOutputAsync("relay 0: Reconciled", Patience);

        ulong offered = await GetFeaturesAsync(socket) ?? throw new AssertionException("no answer to GET_FEATURES");
        Assert.Multiple(() =>
        {
            foreach ((string name, int bit) in new[] { ("CSUM", VirtioNetCsum), ("HOST_TSO4", HostTso4), ("HOST_TSO6", HostTso6), ("HOST_ECN", HostEcn), ("HOST_UFO", HostUfo) })
            {
                Assert.That(Has(offered, bit), Is.False, $"VIRTIO_NET_F_{name} offered (features 0x{offered:x})");
            }

            Assert.That(Has(offered, 32), Is.True, "VIRTIO_F_VERSION_1 still offered: the answer is real");
        });
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task A_second_connection_to_a_socket_with_a_vm_is_refused_once_and_the_vm_keeps_its_relay()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix("second")} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        string socket = dir.File("virtio-forwarder0.sock");
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={socket}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        (int waited, _, string waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
        Assert.That(waited, Is.Zero, waitErr);

        // The intruder keeps talking, as the VM's reset would have let it take the relay.
        ulong? intruder = await GetFeaturesAsync(socket, messages: 50);
        const string Refusal = "relay 0: refusing a second vhost-user connection";
        // DPDK's log lines go to stderr.
        await Eventually.UntilAsync(() => daemon.StandardError.Contains(Refusal, StringComparison.Ordinal), "the refusal", Patience);
        ulong before = (await Vioctl.RelayAsync(0)).GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64();
        JsonElement after = await Eventually.HoldsAsync(() => Vioctl.RelayAsync(0),
            r => r.GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64() > before + 1000,
            Patience, "the VM still receiving");
        string log = daemon.StandardOutput + daemon.StandardError;
        Assert.Multiple(() =>
        {
            Assert.That(intruder, Is.Null, "the second connection is closed without an answer");
            Assert.That(log.Split(Refusal).Length - 1, Is.EqualTo(1), "one line, not one per message");
            Assert.That(after.GetProperty("ready").GetBoolean(), Is.True);
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    // Finding 6: relay 4's bond cannot be created (a device of that name exists: the EAL kept the
    // failed vdev). Relay 4's port id was never set (0), which is relay 0's VF: releasing the
    // failed bond stopped it, and relay 0 went on saying Ready with frozen counters.
    [Test]
    public async Task A_bond_that_cannot_be_created_leaves_another_relays_vf_running()
    {
        using var dir = new TempDirectory();
        string zmq = dir.File("run");
        using DaemonProcess daemon = DaemonProcess.Start(
            new Dictionary<string, string> { ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_PCI_ALIASES"] = "0000:00:01.0=net_null1;0000:00:01.1=net_null2" },
            "-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0", $"--zmq-port-control-ep=ipc://{zmq}/port_control",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix("bond")} --log-level=lib.vhost.config:warning --vdev=net_bonding_vio4wd4,mode=99");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("virtio-forwarder0.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        Prefixes.Add(vm.Prefix);
        (int waited, _, string waitErr) = await Vioctl.RunAsync("wait", "--for=ready", "0", "--timeout", "60s");
        Assert.That(waited, Is.Zero, waitErr);

        (int code, string answer, string error) = await Vioctl.RunAsync("port", "add", "--zmq-ep", $"ipc://{zmq}/port_control",
            "--pci-addr", "0000:00:01.0", "--pci-addr", "0000:00:01.1", "--name", "bond4", "--virtio-id", "4");
        await Eventually.UntilAsync(() => daemon.StandardOutput.Contains("cannot create bond 'net_bonding_vio4wd4'", StringComparison.Ordinal),
            "the bond's failure reported", Patience);
        JsonElement vfToVm = (await Vioctl.RelayAsync(0)).GetProperty("stats").GetProperty("vfToVm");
        (ulong before, ulong dropped) = (vfToVm.GetProperty("txPackets").GetUInt64(), vfToVm.GetProperty("droppedPackets").GetUInt64());
        JsonElement after = await Eventually.HoldsAsync(() => Vioctl.RelayAsync(0),
            r => r.GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64() > before + 1000,
            Patience, "relay 0's VF still received from", () => daemon.StandardOutput);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero, $"the bond add fails: {answer} {error}");
            Assert.That(after.GetProperty("ready").GetBoolean(), Is.True);
            Assert.That(after.GetProperty("stats").GetProperty("vfToVm").GetProperty("droppedPackets").GetUInt64(), Is.EqualTo(dropped), "nothing dropped since");
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }
}
