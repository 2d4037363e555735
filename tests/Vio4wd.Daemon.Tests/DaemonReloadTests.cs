using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>SIGHUP re-reads the config file and changes exactly the relays whose lines changed.</summary>
[NonParallelizable]
public class DaemonReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Sighup_with_an_edited_static_vf_list_changes_only_those_relays_and_a_bad_file_changes_nothing()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-reload-{Environment.ProcessId}";
        string config = dir.File("virtioforwarder");
        string sockets = Path.Combine(dir.Path, "sockets");
        void WriteConfig(string staticVfs) => File.WriteAllText(config, $"""
            VIRTIOFWD_CPU_MASK=1
            VIRTIOFWD_SOCKET_DIR={sockets}
            VIRTIOFWD_DYNAMIC_SOCKETS=y
            VIRTIOFWD_STATIC_VFS=({staticVfs})
            VIRTIOFWD_EAL_ARGS="--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning"
            """);
        WriteConfig("net_null0=0 net_null1=1");
        Directory.CreateDirectory(sockets); // the VM stand-in listens there first
        try
        {
            await using var vm = Testpmd.Start([$"net_virtio_user0,path={Path.Combine(sockets, "virtio-forwarder0.sock")},server=1"],
                ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
            using DaemonProcess daemon = DaemonProcess.Start("--config", config, "--nodaemon", "--vhostuser-client");
            await daemon.WaitForOutputAsync("relay 0: VM connected", Patience);
            await daemon.WaitForOutputAsync("Forwarding; waiting for SIGTERM", Patience);
            int mark = daemon.StandardOutput.Length;
            Counters before = await CountersAsync();

            WriteConfig("net_null0=0 net_null2=2");
            daemon.Signal("HUP");
            await daemon.WaitForOutputAsync("attached net_null2", Patience);
            await daemon.WaitForOutputAsync("detached net_null1", Patience);
            await Task.Delay(500);
            string after = daemon.StandardOutput[mark..];
            Counters afterReload = await CountersAsync();

            File.WriteAllText(config, "VIRTIOFWD_CPU_MASK=banana\n");
            daemon.Signal("HUP");
            await daemon.WaitForOutputAsync("SIGHUP: configuration not reloaded", Patience);
            await Task.Delay(500);
            string afterBad = daemon.StandardOutput[(mark + after.Length)..];

            daemon.Signal("TERM");
            int exit = await daemon.WaitForExitAsync(Patience);
            Assert.Multiple(() =>
            {
                Assert.That(after, Does.Contain("relay 1: Reconciled: removed socket").And.Contain("detached net_null1"));
                Assert.That(after, Does.Contain("relay 2: Reconciled: registered socket").And.Contain("attached net_null2"));
                Assert.That(after, Does.Not.Contain("relay 0:"), "relay 0 untouched: no action, its VM never left");
                Assert.That(afterReload.Dropped, Is.EqualTo(before.Dropped), "relay 0 lost not a single packet, either way");
                Assert.That(afterReload.Forwarded, Is.GreaterThan(before.Forwarded + 1000), "relay 0 kept forwarding through the reload");
                Assert.That(afterBad, Does.Contain("VIRTIOFWD_CPU_MASK"), "the problem is named");
                Assert.That(afterBad, Does.Not.Contain("Reconciled"), "a bad file changes nothing");
                Assert.That(exit, Is.Zero, daemon.StandardError);
            });
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    private sealed record Counters(ulong Dropped, ulong Forwarded);

    /// <summary>Relay 0's drops (VM absent) and frames delivered, both directions, from vio4wdctl stats.</summary>
    private static async Task<Counters> CountersAsync()
    {
        System.Text.Json.JsonElement relay = (await Vioctl.JsonAsync("stats", "--include-inactive", "--delay", "0", "0")).EnumerateArray().Single();
        ulong Sum(string field) => relay.GetProperty("vfToVm").GetProperty(field).GetUInt64() + relay.GetProperty("vmToVf").GetProperty(field).GetUInt64();
        return new Counters(Sum("droppedPackets"), Sum("txPackets"));
    }
}
