using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// What only the daemon remembers survives it: a relay added through ZMQ port control (configured
/// as Netronome's deployment template: client mode, dynamic sockets) comes back after SIGTERM and
/// after kill -9 with its id, reconnects to the VM that kept running and forwards again, without
/// the plug being made twice; a state file it cannot trust is refused with a log line and the daemon
/// starts anyway.
/// </summary>
[NonParallelizable]
public class StatePersistenceTests() : DaemonTest("state")
{
    private static readonly Dictionary<string, string> Hooks = new()
    {
        ["VIO4WD_TEST_HOOKS"] = "1",
        // The VF os-vif would name, as a device this machine has.
        ["VIO4WD_TEST_PCI_ALIASES"] = "0000:00:01.0=net_null1",
    };

    // The aliases make port control's VF a vdev: runtime sources may name one (and the state file
    // hold one) only with --allow-runtime-devargs, as on a real host they name PCI addresses.
    // Neutron's socket directory as an operator lists it (VIRTIOFWD_VHOST_SOCKET_DIRS).
    private string[] Args(TempDirectory dir, string name) =>
        ["-C", "1", "--nodaemon", "--vhostuser-client", "--dynamic-sockets", "-V", dir.File("sockets"), "--allow-runtime-devargs",
            "--extra-socket-dir", dir.File("openvswitch"),
            $"--zmq-port-control-ep=ipc://{dir.File("run")}/port_control", "--state-dir", dir.File("state"),
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix(name)} --log-level=lib.vhost.config:warning"];

    /// <summary>The original's tool as os-vif runs it, from the repository (the package installs the same file).</summary>
    private static async Task<(int Code, string Output)> PortControlAsync(TempDirectory dir, params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(DaemonProcess.RepoRoot, "tools", "original", "virtioforwarder_port_control.py"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["VIO4WDCTL"] = DaemonProcess.CtlLauncher },
        };
        foreach (string arg in args.Append($"--zmq_ep=ipc://{dir.File("run")}/port_control"))
        {
            info.ArgumentList.Add(arg);
        }

        using Process tool = Process.Start(info)!;
        Task<string> stdout = tool.StandardOutput.ReadToEndAsync();
        string stderr = await tool.StandardError.ReadToEndAsync();
        await tool.WaitForExitAsync();
        return (tool.ExitCode, await stdout + stderr);
    }

    [Test]
    public async Task A_relay_added_by_port_control_comes_back_after_sigterm_and_kill_9_with_its_id_and_its_running_vm()
    {
        using var dir = new TempDirectory();
        // As Open vSwitch keeps its run directory (root's, 0755): checked, never changed.
        Directory.CreateDirectory(dir.File("openvswitch"));
        // Neutron's name for the port's socket: "vhu" + the port id, 14 characters.
        string socket = Path.Combine(dir.File("openvswitch"), "vhu2f1c7a34-7a");
        Testpmd? vm = null;
        try
        {
            using (DaemonProcess first = DaemonProcess.Start(Hooks, Args(dir, "first")))
            {
                await first.WaitForOutputAsync("Forwarding", Patience);
                // QEMU owns the socket in this mode (libvirt's mode='server'); testpmd stands in for it.
                vm = Testpmd.Start([$"net_virtio_user0,path={socket},server=1"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
                Prefixes.Add(vm.Prefix);
                (int code, string output) = await PortControlAsync(dir, "add_sock", "--pci-addr=0000:00:01.0", $"--vhost-path={socket}");
                Assert.That(code, Is.Zero, output);
                await first.WaitForOutputAsync("relay 0: VM connected", Patience);
                await vm.WaitForMoreReceivedAsync(await vm.ReceivedAsync(), "frames through the plugged relay", Patience);
                first.Signal("TERM");
                Assert.That(await first.WaitForExitAsync(Patience), Is.Zero, first.StandardError);
            }

            Assert.That(File.ReadAllText(Path.Combine(dir.File("state"), "state.json")), Does.Contain("\"source\":\"zmq\"").And.Contain(socket));

            foreach (string how in new[] { "KILL", "TERM" })
            {
                long before = await vm.ReceivedAsync();
                using DaemonProcess next = DaemonProcess.Start(Hooks, Args(dir, how.ToLowerInvariant()));
                await next.WaitForOutputAsync("Restored 1 claims", Patience);
                await next.WaitForOutputAsync("relay 0: VM connected", Patience);
                await vm.WaitForMoreReceivedAsync(before, $"frames after the restart before a {how}", Patience);
                Assert.That(next.StandardOutput, Does.Contain("relay 0: Reconciled: registered socket " + socket + " (client mode)"), "the same relay id, no new plug");
                next.Signal(how);
                await next.WaitForExitAsync(Patience);
            }

            // os-vif's unplug ends it for good: the next daemon has nothing to restore.
            using (DaemonProcess last = DaemonProcess.Start(Hooks, Args(dir, "last")))
            {
                await last.WaitForOutputAsync("relay 0: VM connected", Patience);
                (int code, string output) = await PortControlAsync(dir, "remove_sock", $"--vhost-path={socket}");
                Assert.That(code, Is.Zero, output);
                last.Signal("TERM");
                Assert.That(await last.WaitForExitAsync(Patience), Is.Zero, last.StandardError);
            }

            Assert.That(File.Exists(socket), Is.True, "QEMU's socket: the daemon connected to it, never made or removed it");

            using DaemonProcess empty = DaemonProcess.Start(Hooks, Args(dir, "empty"));
            await empty.WaitForOutputAsync("Forwarding", Patience);
            Assert.That(empty.StandardOutput, Does.Not.Contain("Restored").And.Not.Contain("relay 0:"));
            empty.Signal("TERM");
            Assert.That(await empty.WaitForExitAsync(Patience), Is.Zero, empty.StandardError);
        }
        finally
        {
            if (vm is not null)
            {
                await vm.DisposeAsync();
            }
        }
    }

    [TestCase("{\"version\":1,\"claims\":[{\"source\":\"zmq\",\"key\":", "is not a state file", TestName = "A truncated state file is refused and the daemon starts")]
    [TestCase("{\"version\":1,\"claims\":[{\"source\":\"zmq\",\"key\":\"relay 2\",\"subject\":\"x\",\"name\":null,\"order\":0,\"relay\":2,"
        + "\"device\":null,\"socket\":{\"path\":\"/etc/vio4wd-test-victim\",\"mode\":\"server\"},\"pins\":null}]}",
        "is not where runtime sources may have sockets", TestName = "A state file placing a socket outside the socket directory is refused and nothing of it is applied")]
    public async Task A_state_file_it_cannot_trust_is_refused_with_a_log_line_and_the_daemon_starts(string content, string reason)
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("state"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string state = Path.Combine(dir.File("state"), "state.json");
        await File.WriteAllTextAsync(state, content);
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using DaemonProcess daemon = DaemonProcess.Start(Hooks, Args(dir, "refused"));
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        Assert.Multiple(() =>
        {
            Assert.That(daemon.StandardOutput, Does.Contain("state file refused").And.Contain(reason));
            Assert.That(Directory.GetFiles(dir.File("state"), "state.json.refused-*"), Has.Length.EqualTo(1), "kept aside for a look");
            Assert.That(daemon.StandardOutput, Does.Not.Contain("relay 2:"), "nothing of it applied");
            Assert.That(File.Exists("/etc/vio4wd-test-victim"), Is.False);
        });
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [Test]
    public async Task The_row_that_held_a_relay_keeps_it_across_restarts_and_the_later_row_stays_refused()
    {
        await using OvsdbServer ovsdb = await OvsdbServer.StartAsync();
        using var dir = new TempDirectory();
        string[] Args(string name) =>
            ["-C", "1", "--nodaemon", "-V", dir.File("sockets"), "-O", ovsdb.Endpoint, "--allow-runtime-devargs", "--state-dir", dir.File("state"),
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix(name)} --log-level=lib.vhost.config:warning"];
        string[] Flag(string port, string device) =>
            ["--", "set", "interface", port, "external_ids:virtio_forwarder=1", $"external_ids:virtio_forwarder_dev={device}", "external_ids:virtio_forwarder_relay=3"];

        await ovsdb.VsctlAsync(["add-br", "br0", "--", "add-port", "br0", "vhu-b", .. Flag("vhu-b", "net_null2")]);
        using (DaemonProcess first = DaemonProcess.Start(Args("first")))
        {
            await first.WaitForOutputAsync("Forwarding", Patience);
            await ovsdb.VsctlAsync(["add-port", "br0", "vhu-a", .. Flag("vhu-a", "net_null1")]);
            await Eventually.UntilAsync(async () => (await OvsdbPortControlTests.StateAsync(ovsdb, "vhu-a")).Contains("relay 3 is already used by interface vhu-b", StringComparison.Ordinal),
                "vhu-a refused: vhu-b was first", Patience);
            first.Signal("TERM");
            Assert.That(await first.WaitForExitAsync(Patience), Is.Zero, first.StandardError);
        }

        // Each start sees both rows at once, in OVSDB's order; only the state file says who was first.
        foreach (string round in new[] { "second", "third" })
        {
            using DaemonProcess daemon = DaemonProcess.Start(Args(round));
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            using ControlClient control = await ControlClient.ConnectAsync();
            string? holder = (await control.RelayAsync(3))?.Device;
            IEnumerable<string> refused = (await control.Api.RejectedAsync()).Select(r => r.Subject);
            Assert.Multiple(() =>
            {
                Assert.That(holder, Is.EqualTo("net_null2"), $"{round} start: vhu-b still holds relay 3");
                Assert.That(refused, Does.Contain("interface vhu-a"));
            });
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
    }
}
