using System.Diagnostics;
using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The operator's verbs (top, config, log-level, reload, health, status --watch, wait --all)
/// against the real daemon with a testpmd VM, as an operator types them.
/// </summary>
[NonParallelizable]
public class VioctlOperatorTests() : DaemonTest("vioctl-ops")
{
    [Test]
    public async Task Top_config_log_level_reload_and_wait_all_on_a_forwarding_relay()
    {
        using var dir = new TempDirectory();
        string config = dir.File("virtioforwarder");
        string sockets = Path.Combine(dir.Path, "sockets");
        string prefix = Prefixes.Next("daemon");
        void WriteConfig(string staticVfs) => File.WriteAllText(config, $"""
            VIRTIOFWD_CPU_MASK=1
            VIRTIOFWD_SOCKET_DIR={sockets}
            VIRTIOFWD_DYNAMIC_SOCKETS=y
            VIRTIOFWD_STATIC_VFS=({staticVfs})
            VIRTIOFWD_CONTROL_SOCK={DaemonProcess.ControlSocket}
            VIRTIOFWD_ZMQ_CONFIG_EP=ipc://{dir.File("config.ep")}
            VIRTIOFWD_EAL_ARGS="--no-huge -m 512 --no-pci --file-prefix={prefix} --log-level=lib.vhost.config:warning"
            """);
        WriteConfig("net_null0=0");
        using DaemonProcess daemon = DaemonProcess.Start("--config", config, "--nodaemon");
        await daemon.WaitForOutputAsync("Forwarding; waiting for SIGTERM", Patience);
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={Path.Combine(sockets, "virtio-forwarder0.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]);
        await daemon.WaitForOutputAsync("relay 0: VM connected", Patience);

        // top: measured busy share and rates, one JSON sample; the text views once.
        JsonElement top = await Eventually.HoldsAsync(() => Vioctl.JsonAsync("top", "--interval", "1s"),
            t => t.GetProperty("relays")[0].GetProperty("vfToVm").GetProperty("packetsPerSecond").GetDouble() > 0, Patience, "relay 0 moving packets in top");
        JsonElement worker = top.GetProperty("workers").EnumerateArray().Single();
        (int textCode, string text, _) = await Vioctl.RunAsync("top", "--once", "-n", "500ms");
        (_, string bars, _) = await Vioctl.RunAsync("top", "--once", "--load-bars", "-n", "500ms");
        (_, string map, _) = await Vioctl.RunAsync("top", "--core-map");
        Assert.Multiple(() =>
        {
            Assert.That(worker.GetProperty("cpu").GetInt32(), Is.EqualTo(1));
            Assert.That(worker.GetProperty("busyRatio").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(1), "the worker's measured busy share");
            Assert.That(worker.GetProperty("packetsPerSecond").GetDouble(), Is.GreaterThan(0));
            // Forwarding cost per packet, and the counters behind it for any window.
            Assert.That(worker.GetProperty("cyclesPerPacket").GetDouble(), Is.GreaterThan(0).And.LessThan(1e6));
            JsonElement counters = worker.GetProperty("counters");
            Assert.That(counters.GetProperty("packets").GetUInt64(), Is.GreaterThan(0UL));
            Assert.That(counters.GetProperty("busyCycles").GetUInt64(), Is.GreaterThan(0UL));
            Assert.That(counters.GetProperty("cyclesPerSecond").GetUInt64(), Is.GreaterThan(1_000_000UL), "the TSC rate");
            Assert.That(worker.GetProperty("directions").EnumerateArray().Select(d => d.GetString()), Is.EquivalentTo(new[] { "0:vf_to_vm", "0:vm_to_vf" }));
            Assert.That(textCode, Is.Zero);
            Assert.That(text, Does.Contain("BUSY").And.Contain("CYC/PKT").And.Contain("0:vf_to_vm 0:vm_to_vf"));
            Assert.That(bars, Does.StartWith("CPU loads\nCPU1: "));
            Assert.That(map, Does.StartWith("Worker cores affinities:\n").And.Contain("== 01 ==").And.Contain("00    00"));
        });

        // config: every value with its origin, and the live CPU map; found through --config alone.
        (int configCode, string settings, string configErr) = await Vioctl.RunUnpointedAsync("--config", config, "config");
        Assert.That(configCode, Is.Zero, configErr);
        Assert.That(settings, Does.Match(@"VIRTIOFWD_STATIC_VFS=\(net_null0=0\)\s+# " + System.Text.RegularExpressions.Regex.Escape(config)));
        Assert.That(settings, Does.Match(@"VIRTIOFWD_TSO=\s+# default").And.Match(@"# 1\s+0\s+0:vf_to_vm 0:vm_to_vf"));
        // The ZMQ config service, as the original's virtioforwarder_config.py printed it.
        (int zmqCode, string zmqConfig, string zmqErr) = await Vioctl.RunAsync("config", "--zmq-ep", $"ipc://{dir.File("config.ep")}");
        Assert.That(zmqCode, Is.Zero, zmqErr);
        Assert.That(zmqConfig, Does.StartWith("status: OK\n"));

        // log-level: below NOTICE the reload's notice is not written; back at INFO it is.
        Assert.That((await Vioctl.RunAsync("log-level")).Stdout, Is.EqualTo("log level 6 (info)\n"));
        Assert.That((await Vioctl.RunAsync("log-level", "4")).Stdout, Is.EqualTo("log level 4 (warning), was 6 (info)\n"));
        (int badLevel, _, string badLevelErr) = await Vioctl.RunAsync("log-level", "8");
        Assert.That((badLevel, badLevelErr), Is.EqualTo((1, "vio4wdctl: the log level is 0 (emergencies only) to 7 (debug), not 8\n")));
        Assert.That((await Vioctl.RunAsync("reload")).Stdout, Is.EqualTo("reloaded: nothing changed\n"));
        await Vioctl.RunAsync("log-level", "6");

        // reload: what changed, applied; a bad file is refused with its problem and changes nothing.
        WriteConfig("net_null0=0 net_null1=1");
        (int reloadCode, string reloaded, _) = await Vioctl.RunAsync("reload");
        Assert.That(reloadCode, Is.Zero);
        Assert.That(reloaded, Does.StartWith("reloaded:\n  relay 1: added (device net_null1, socket " + Path.Combine(sockets, "virtio-forwarder1.sock")));
        await daemon.WaitForOutputAsync("Configuration reloaded: relay 1: added", Patience);
        Assert.That(daemon.StandardOutput, Does.Not.Contain("Configuration reloaded: nothing changed"), "at log level 4 the notice was not written");
        (int waitCode, string waited, string waitErr) = await Vioctl.RunAsync("wait", "--all", "--for", "condition=DeviceReady", "--timeout", "60s");
        Assert.That((waitCode, waited), Is.EqualTo((0, "all 2 relays condition met\n")), waitErr);
        (int notReady, _, string notReadyErr) = await Vioctl.RunAsync("wait", "--all", "--timeout", "300ms");
        Assert.That(notReady, Is.EqualTo(1), notReadyErr);
        Assert.That(notReadyErr, Does.Contain("1 of 2 are not, e.g. relay 1: Ready=False"));

        File.WriteAllText(config, "VIRTIOFWD_CPU_MASK=banana\n");
        (int refusedCode, string refused, _) = await Vioctl.RunAsync("reload");
        Assert.That(refusedCode, Is.EqualTo(1), refused);
        Assert.That(refused, Does.StartWith("reload refused, nothing changed:\n").And.Contain("VIRTIOFWD_CPU_MASK"));
        Assert.That((await Vioctl.JsonAsync("status")).GetArrayLength(), Is.EqualTo(2), "the refused file removed nothing");
    }

    [Test]
    public async Task Status_watch_prints_again_when_a_relay_changes()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "--dynamic-sockets", "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefixes.Next("watch")}");
        await daemon.WaitForOutputAsync("Forwarding; waiting for SIGTERM", Patience);
        var lines = new List<string>();
        using Process watch = Vioctl.Start(lines, "status", "--watch");
        try
        {
            string Seen()
            {
                lock (lines)
                {
                    return string.Join('\n', lines);
                }
            }

            await Eventually.UntilAsync(() => Task.FromResult(Seen().Contains("VhostNotConnected", StringComparison.Ordinal)), "the first listing", Patience);
            await using (var vm = Testpmd.Start([$"net_virtio_user0,path={dir.File("virtio-forwarder0.sock")}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]))
            {
                await Eventually.UntilAsync(() => Task.FromResult(Seen().Contains("Forwarding", StringComparison.Ordinal)), "a second listing once the VM connected", Patience);
            }

            string seen = Seen();
            Assert.That(seen.Split('\n').Count(l => l.StartsWith("RELAY", StringComparison.Ordinal)), Is.InRange(2, 4), $"a listing per change (the VM's arrival may show as two steps), not one per poll:\n{seen}");
            Assert.That(watch.HasExited, Is.False, "--watch keeps watching");
        }
        finally
        {
            watch.Kill();
            await watch.WaitForExitAsync();
        }
    }

    [Test]
    public async Task Bash_completion_completes_verbs_options_and_the_daemons_relay_ids()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "--dynamic-sockets", "-P", "net_null0=0", "-P", "net_null1=3",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefixes.Next("completion")}");
        await daemon.WaitForOutputAsync("Forwarding; waiting for SIGTERM", Patience);

        // As bash calls it on TAB: COMP_WORDS and COMP_CWORD, then the function; vio4wdctl from PATH.
        async Task<string[]> CompleteAsync(params string[] words)
        {
            string script = $"""
                source /usr/share/bash-completion/bash_completion
                source '{Path.Combine(DaemonProcess.RepoRoot, "completion", "vio4wdctl")}'
                export PATH='{Path.GetDirectoryName(DaemonProcess.CtlLauncher)}':$PATH VIO4WD_CONTROL_SOCK='{DaemonProcess.ControlSocket}'
                COMP_WORDS=(vio4wdctl {string.Join(' ', words.Select(w => $"'{w}'"))})
                COMP_CWORD=${"{"}#COMP_WORDS[@]{"}"}; COMP_CWORD=$((COMP_CWORD - 1))
                COMP_LINE="${"{"}COMP_WORDS[*]{"}"}"; COMP_POINT=${"{"}#COMP_LINE{"}"}
                _vio4wdctl
                printf '%s\n' "${"{"}COMPREPLY[@]{"}"}"
                """;
            (int code, string stdout, string stderr) = await Command.RunAsync(Patience, "bash", "-c", script);
            Assert.That(code, Is.Zero, stderr);
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await CompleteAsync(""), Is.SupersetOf(new[] { "status", "top", "health", "config", "log-level", "reload", "wait", "describe" }));
            Assert.That(await CompleteAsync("lo"), Is.EqualTo(new[] { "log-level" }));
            Assert.That(await CompleteAsync("describe", ""), Is.EquivalentTo(new[] { "0", "3" }), "the running daemon's relay ids");
            Assert.That(await CompleteAsync("wait", "--"), Does.Contain("--all"));
            Assert.That(await CompleteAsync("status", "-o", ""), Is.EquivalentTo(new[] { "table", "json", "yaml", "wide", "name" }));
            Assert.That(await CompleteAsync("top", "--"), Does.Contain("--core-map").And.Contain("--load-bars"));
            Assert.That(await CompleteAsync("log-level", ""), Has.Length.EqualTo(8));
        });
    }
}
