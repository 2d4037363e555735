using System.Diagnostics;
using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>vio4wdctl against the real daemon over its control socket.</summary>
[NonParallelizable]
public class VioctlStatusTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Status_shows_the_relays_with_conditions_and_counters_and_the_socket_is_owner_and_group_only()
    {
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-daemon-ctl-{Environment.ProcessId}";
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0",
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
            // The control socket answers before the relays' sockets exist: wait for the first pass.
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            await using var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("virtio-forwarder0.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
            await daemon.WaitForOutputAsync("relay 0: VM connected", Patience);

            JsonElement zero = default;
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                (int code, string json, string err) = await Vioctl.RunAsync("status", "-o", "json");
                Assert.That(code, Is.Zero, err);
                JsonElement[] relays = [.. JsonDocument.Parse(json).RootElement.EnumerateArray()];
                zero = relays.Single(r => r.GetProperty("id").GetInt32() == 0);
                if (zero.GetProperty("ready").GetBoolean() && zero.GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64() > 0)
                {
                    Assert.That(relays, Has.Length.EqualTo(DpdkBuildFacts.DefaultMaxRelays), "every default socket is a relay (VIRTIOFWD_MAX_RELAYS defaults to 256, or the build's maximum)");
                    break;
                }

                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"relay 0 ready with traffic; last: {zero}");
                await Task.Delay(200);
            }

            (int tableCode, string table, _) = await Vioctl.RunAsync("status");
            (int nameCode, string names, _) = await Vioctl.RunAsync("status", "-o", "name");
            (int yamlCode, string yaml, _) = await Vioctl.RunAsync("status", "-o", "yaml");
            (int wideCode, string wide, _) = await Vioctl.RunAsync("status", "-o", "wide");
            (int deniedCode, _, string denied) = await Vioctl.RunAsUserAsync("nobody", "status");
            UnixFileMode mode = File.GetUnixFileMode(DaemonProcess.ControlSocket);
            Assert.Multiple(() =>
            {
                Assert.That(zero.GetProperty("source").GetString(), Is.EqualTo("static"));
                Assert.That(zero.GetProperty("device").GetString(), Is.EqualTo("net_null0"));
                Assert.That(zero.GetProperty("mode").GetString(), Is.EqualTo("server"));
                string[] conditions = [.. zero.GetProperty("conditions").EnumerateArray().Select(c => $"{c.GetProperty("type").GetString()}={c.GetProperty("status").GetString()}")];
                Assert.That(conditions, Is.EquivalentTo(new[] { "DeviceReady=True", "VhostConnected=True", "Ready=True" }));
                Assert.That(zero.GetProperty("conditions")[0].TryGetProperty("lastTransitionTime", out _), Is.True);
                Assert.That(tableCode, Is.Zero);
                Assert.That((nameCode, names.Split('\n', StringSplitOptions.RemoveEmptyEntries)), Is.EqualTo((0, Enumerable.Range(0, DpdkBuildFacts.DefaultMaxRelays).Select(i => $"relay/{i}").ToArray())));
                Assert.That(yamlCode, Is.Zero);
                Assert.That(yaml, Does.StartWith("- id: 0\n").And.Contain("  device: net_null0\n").And.Contain("  ready: true\n"));
                Assert.That(wideCode, Is.Zero);
                Assert.That(wide.Split('\n')[0], Does.StartWith("RELAY").And.Contain("CPUS").And.Contain("VF-TO-VM"));
                Assert.That(wide.Split('\n')[1], Does.Match(@"^0\s+static\s+net_null0\s.*\s1,1\s+\S+\s+1\s+\d+\s+[1-9]\d*\s+\d+\s*$"), "CPUs, NUMA, queues and counters of relay 0");
                Assert.That(table, Does.StartWith("RELAY").And.Contain("net_null0").And.Contain("Forwarding").And.Contain("DeviceNotReady"));
                Assert.That(deniedCode, Is.EqualTo(1));
                Assert.That(denied, Does.Contain("permission denied (run as root or as a member of the socket's group)"), "a user outside the group");
                Assert.That(mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute), Is.EqualTo(UnixFileMode.None), "not world-accessible");
            });
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero);
            Assert.That(File.Exists(DaemonProcess.ControlSocket), Is.False, "the control socket goes with the daemon");
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    [Test]
    public async Task Without_a_daemon_vioctl_says_so_and_exits_3()
    {
        (int code, _, string err) = await Vioctl.RunAsync("--control-sock", "/tmp/vio4wd-no-such-daemon.sock", "status");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(3), "the daemon is unreachable, as an LSB status says 'not running'");
            Assert.That(err, Does.Contain("vio4wdctl: cannot reach the daemon at /tmp/vio4wd-no-such-daemon.sock").And.Contain("is virtio-forwarder running?"));
        });
    }
}
