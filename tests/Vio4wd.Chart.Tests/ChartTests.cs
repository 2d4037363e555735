using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Vio4wd.Testing;

namespace Vio4wd.Chart.Tests;

/// <summary>
/// charts/vio4wd rendered as `helm template` would (out/bin/chart-render: Go text/template with
/// sprig and Helm's functions), every object read back strictly into the Kubernetes API types,
/// and what a node agent of this kind must have asserted on the DaemonSet.
/// </summary>
public partial class ChartTests
{
    private static readonly string Root = FindRoot();
    private static readonly string Version = VersionRegex().Match(File.ReadAllText(Path.Combine(Root, "Directory.Build.props"))).Groups[1].Value;

    private static string FindRoot()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Vio4wd.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Vio4wd.sln above the tests");
        }

        return dir;
    }

    [GeneratedRegex("<Version>(.*)</Version>")]
    private static partial Regex VersionRegex();

    private sealed record Rendered(V1ConfigMap Config, V1DaemonSet DaemonSet, V1Service? MetricsService = null, ServiceMonitor? ServiceMonitor = null);

    // The Prometheus Operator's CRD, only the fields the chart sets (read strictly: a misspelt one fails).
    private sealed class ServiceMonitor
    {
        public string ApiVersion { get; set; } = "";

        public string Kind { get; set; } = "";

        public V1ObjectMeta Metadata { get; set; } = new();

        public ServiceMonitorSpec Spec { get; set; } = new();
    }

    private sealed class ServiceMonitorSpec
    {
        public V1LabelSelector Selector { get; set; } = new();

        public List<MonitorEndpoint> Endpoints { get; set; } = [];
    }

    private sealed class MonitorEndpoint
    {
        public string Port { get; set; } = "";

        public string Path { get; set; } = "";

        public string Interval { get; set; } = "";

        public List<Relabeling> Relabelings { get; set; } = [];
    }

    private sealed class Relabeling
    {
        public List<string> SourceLabels { get; set; } = [];

        public string TargetLabel { get; set; } = "";
    }

    private static async Task<Rendered> RenderAsync(params string[] valueFiles)
    {
        var info = new ProcessStartInfo(Path.Combine(Root, "out", "bin", "chart-render")) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(Root, "charts", "vio4wd"));
        foreach (string file in valueFiles)
        {
            info.ArgumentList.Add("-f");
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, file));
        }

        using Process render = Process.Start(info)!;
        string output = await render.StandardOutput.ReadToEndAsync();
        string errors = await render.StandardError.ReadToEndAsync();
        await render.WaitForExitAsync();
        Assert.That(render.ExitCode, Is.Zero, errors);

        V1ConfigMap? config = null;
        V1DaemonSet? daemonSet = null;
        V1Service? service = null;
        ServiceMonitor? monitor = null;
        foreach (string document in output.Split("\n---\n").Select(d => d.Trim('-', '\n')).Where(d => d.Length > 0))
        {
            string kind = Regex.Match(document, @"^kind: (\w+)$", RegexOptions.Multiline).Groups[1].Value;
            // Strict: a field the API type does not have is an error, not silently dropped.
            switch (kind)
            {
                case "ConfigMap":
                    config = KubernetesYaml.Deserialize<V1ConfigMap>(document, strict: true);
                    break;
                case "DaemonSet":
                    daemonSet = KubernetesYaml.Deserialize<V1DaemonSet>(document, strict: true);
                    break;
                case "Service":
                    service = KubernetesYaml.Deserialize<V1Service>(document, strict: true);
                    break;
                case "ServiceMonitor":
                    monitor = KubernetesYaml.Deserialize<ServiceMonitor>(document, strict: true);
                    break;
                default:
                    Assert.Fail($"the chart renders a {kind}, which this test does not know");
                    break;
            }
        }

        return new Rendered(config ?? throw new AssertionException("no ConfigMap"), daemonSet ?? throw new AssertionException("no DaemonSet"), service, monitor);
    }

    private static V1Container Daemon(V1DaemonSet set) => set.Spec.Template.Spec.Containers.Single(c => c.Name == "virtio-forwarder");

    [TestCase]
    [TestCase("values-custom.yaml")]
    [TestCase("values-metrics-off.yaml")]
    public async Task Renders_objects_the_kubernetes_api_types_accept_and_a_config_the_daemon_accepts(params string[] values)
    {
        Rendered rendered = await RenderAsync(values);
        using var dir = new TempDirectory();
        string config = dir.File("virtioforwarder");
        await File.WriteAllTextAsync(config, rendered.Config.Data["virtioforwarder"]);
        IList<string> command = Daemon(rendered.DaemonSet).Command;
        Assert.That(command.Take(4), Is.EqualTo(new[] { "virtio-forwarder", "--config", "/etc/vio4wd/virtioforwarder", "--nodaemon" }));
        // The kubelet expands $(POD_IP) to the node's address, of either family.
        foreach (string podIp in new[] { "10.1.2.3", "fd00::7" })
        {
            string[] options = [.. command.Skip(4).Select(a => a.Replace("$(POD_IP)", podIp, StringComparison.Ordinal))];
            (int code, string output, string error) = await Command.RunAsync(TimeSpan.FromSeconds(60), Path.Combine(Root, "out", "bin", "virtio-forwarder"),
                ["--check-config", "--config", config, .. options]);
            Assert.That(code, Is.Zero, error);
            if (options.Length > 0)
            {
                Assert.That(output, Does.Contain(podIp.Contains(':') ? $"VIRTIOFWD_METRICS_ADDRESS='[{podIp}]:" : $"VIRTIOFWD_METRICS_ADDRESS={podIp}:"));
            }
        }

        var info = new ProcessStartInfo(Path.Combine(Root, "out", "bin", "virtio-forwarder"), ["--check-config", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process check = Process.Start(info)!;
        string effective = await check.StandardOutput.ReadToEndAsync();
        string errors = await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.Multiple(() =>
        {
            Assert.That(check.ExitCode, Is.Zero, errors);
            Assert.That(errors, Does.Not.Contain("unknown variable"));
        });
        if (values is ["values-custom.yaml"])
        {
            Assert.That(effective, Does.Contain("VIRTIOFWD_STATIC_VFS=(0000:05:08.1=1 net_tap0,iface=vf0=2)"), "a list value is a bash array");
        }
    }

    [Test]
    public async Task The_default_daemonset_is_what_a_node_agent_of_this_kind_needs()
    {
        V1DaemonSet set = (await RenderAsync()).DaemonSet;
        V1PodSpec pod = set.Spec.Template.Spec;
        V1Container daemon = Daemon(set);
        Assert.Multiple(() =>
        {
            // Guaranteed QoS: every container's requests equal its limits; the daemon's CPUs are whole.
            foreach (V1Container container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                Assert.That(container.Resources.Requests.Keys, Is.EquivalentTo(container.Resources.Limits.Keys), container.Name);
                foreach (string resource in container.Resources.Limits.Keys)
                {
                    Assert.That(container.Resources.Requests[resource], Is.EqualTo(container.Resources.Limits[resource]), $"{container.Name} {resource}");
                }
            }

            Assert.That(daemon.Resources.Limits["cpu"].ToString(), Does.Match("^[1-9][0-9]*$"), "whole CPUs");
            Assert.That(daemon.Resources.Limits["hugepages-2Mi"].ToString(), Is.EqualTo("2750Mi"), "jumbo frames, one NUMA node: the reservation holds 256 relays of 10.5 MiB");
            // Metrics on the node's address, found by Prometheus' pod discovery; probes on /healthz and /readyz.
            Assert.That(daemon.Command, Does.Contain("--metrics-address").And.Contain("[$(POD_IP)]:9723"));
            Assert.That(daemon.Env.Single(e => e.Name == "POD_IP").ValueFrom.FieldRef.FieldPath, Is.EqualTo("status.podIP"));
            Assert.That(daemon.Ports.Single().Name, Is.EqualTo("metrics"));
            Assert.That((daemon.LivenessProbe?.HttpGet?.Path, daemon.LivenessProbe?.HttpGet?.Port?.Value), Is.EqualTo(("/healthz", "metrics")));
            Assert.That((daemon.ReadinessProbe?.HttpGet?.Path, daemon.ReadinessProbe?.HttpGet?.Port?.Value), Is.EqualTo(("/readyz", "metrics")));
            Assert.That(set.Spec.Template.Metadata.Annotations, Does.ContainKey("prometheus.io/scrape").WithValue("true"));
            Assert.That(set.Spec.Template.Metadata.Annotations["prometheus.io/port"], Is.EqualTo("9723"));
            Assert.That(pod.Tolerations.Select(t => (t.Key, t.OperatorProperty, t.Effect)), Does.Contain(((string?)null, "Exists", (string?)null)), "every taint");
            Assert.That(pod.PriorityClassName, Is.EqualTo("system-node-critical"));
            Assert.That(pod.AutomountServiceAccountToken, Is.False);
            Assert.That(set.Spec.UpdateStrategy.Type, Is.EqualTo("OnDelete"));
            Assert.That(daemon.Image, Is.EqualTo($"vio4wd:{Version}"), "make image's name and tag");
            // The config as a directory (a subPath mount never sees an update) and a reloader beside it.
            V1VolumeMount mount = daemon.VolumeMounts.Single(m => m.Name == "config");
            Assert.That((mount.MountPath, mount.SubPath), Is.EqualTo(("/etc/vio4wd", (string?)null)));
            Assert.That(pod.Volumes.Single(v => v.Name == "config").ConfigMap, Is.Not.Null);
            Assert.That(pod.Containers.Select(c => c.Name), Does.Contain("config-reloader"));
            Assert.That(pod.ShareProcessNamespace, Is.True, "the reloader signals the daemon");
            Assert.That(set.Spec.Template.Metadata.Annotations.Keys, Has.None.StartsWith("checksum/"), "a config change restarts no pod");
            Assert.That(set.Metadata.Labels, Does.ContainKey("app.kubernetes.io/name").And.ContainKey("app.kubernetes.io/version").And.ContainKey("helm.sh/chart"));
        });
    }

    [Test]
    public async Task Without_metrics_nothing_listens_on_tcp_and_the_probes_ask_vio4wdctl()
    {
        V1DaemonSet set = (await RenderAsync("values-metrics-off.yaml")).DaemonSet;
        V1Container daemon = Daemon(set);
        Assert.Multiple(() =>
        {
            Assert.That(daemon.Command, Is.EqualTo(new[] { "virtio-forwarder", "--config", "/etc/vio4wd/virtioforwarder", "--nodaemon" }));
            Assert.That(daemon.Ports, Is.Null);
            Assert.That(daemon.LivenessProbe.Exec.Command, Is.EqualTo(new[] { "vio4wdctl", "--control-sock", "/run/virtio-forwarder/control.sock", "health", "--live" }));
            Assert.That(daemon.ReadinessProbe.Exec.Command, Is.EqualTo(new[] { "vio4wdctl", "--control-sock", "/run/virtio-forwarder/control.sock", "health" }));
            Assert.That(set.Spec.Template.Metadata.Annotations, Is.Null);
        });
    }

    [Test]
    public async Task The_hugepage_limit_follows_the_relay_count()
    {
        V1Container daemon = Daemon((await RenderAsync("values-512-relays.yaml")).DaemonSet);
        Assert.That(daemon.Resources.Limits["hugepages-2Mi"].ToString(), Is.EqualTo("5392Mi"),
            "512 relays of 10.5 MiB (jumbo frames) and the EAL's 16 MiB: more than the 2750 MiB reservation");
        Assert.That(daemon.Resources.Requests["hugepages-2Mi"].ToString(), Is.EqualTo("5392Mi"));
    }

    [Test]
    public async Task Non_default_values_reach_the_daemonset()
    {
        Rendered rendered = await RenderAsync("values-custom.yaml");
        V1DaemonSet set = rendered.DaemonSet;
        V1PodSpec pod = set.Spec.Template.Spec;
        V1Container daemon = Daemon(set);
        Assert.Multiple(() =>
        {
            Assert.That(daemon.Image, Is.EqualTo("registry.example.org/net/vio4wd:0.1.0-rc1"));
            Assert.That(daemon.ImagePullPolicy, Is.EqualTo("Always"));
            Assert.That(pod.ImagePullSecrets.Select(s => s.Name), Is.EqualTo(new[] { "registry-creds" }));
            Assert.That(set.Metadata.Name, Is.EqualTo("relay"));
            Assert.That(set.Spec.UpdateStrategy.Type, Is.EqualTo("RollingUpdate"));
            Assert.That(daemon.Resources.Limits["cpu"].ToString(), Is.EqualTo("2"));
            Assert.That(daemon.Resources.Limits["hugepages-2Mi"].ToString(), Is.EqualTo("2448Mi"),
                "no jumbo, 2 NUMA nodes: one node's 768 MiB reservation, and 256 relays of 6.5 MiB with the EAL's 16 MiB on the other (more than its 768)");
            Assert.That(pod.Containers.Select(c => c.Name), Is.EqualTo(new[] { "virtio-forwarder", "core-scheduler" }));
            Assert.That(pod.Containers.Single(c => c.Name == "core-scheduler").Command, Does.Contain("--global-numa-opt"));
            Assert.That(pod.ShareProcessNamespace, Is.False);
            Assert.That(pod.Tolerations.Single().Key, Is.EqualTo("sriov"));
            Assert.That(daemon.Command, Does.Contain("[$(POD_IP)]:9999"));
            Assert.That(set.Spec.Template.Metadata.Annotations, Is.Null, "podAnnotations: false");
            // The Prometheus Operator's way: a headless Service over the pods' metrics port and a ServiceMonitor on it.
            Assert.That(rendered.MetricsService?.Spec.ClusterIP, Is.EqualTo("None"));
            Assert.That(rendered.MetricsService!.Spec.Ports.Single().TargetPort.Value, Is.EqualTo("metrics"));
            Assert.That(rendered.MetricsService.Spec.Selector, Is.EquivalentTo(set.Spec.Selector.MatchLabels));
            Assert.That((rendered.ServiceMonitor?.ApiVersion, rendered.ServiceMonitor?.Kind), Is.EqualTo(("monitoring.coreos.com/v1", "ServiceMonitor")));
            Assert.That(rendered.ServiceMonitor!.Metadata.Labels, Does.ContainKey("release").WithValue("kube-prometheus"));
            Assert.That(rendered.ServiceMonitor.Spec.Selector.MatchLabels, Is.EquivalentTo(set.Spec.Selector.MatchLabels));
            Assert.That(rendered.ServiceMonitor.Spec.Endpoints.Single().Port, Is.EqualTo("metrics"));
            Assert.That(rendered.ServiceMonitor.Spec.Endpoints.Single().Interval, Is.EqualTo("15s"));
        });
    }

    // The reloader sidecar's own script, run in a PID namespace of its own (pkill must find only the
    // stand-in daemon: a script whose process name is virtio-forwarder's, which logs each SIGHUP).
    [Test]
    public async Task The_config_reloader_sends_sighup_to_the_daemon_when_the_file_changes_and_not_before()
    {
        V1Container reloader = (await RenderAsync()).DaemonSet.Spec.Template.Spec.Containers.Single(c => c.Name == "config-reloader");
        using var dir = new TempDirectory();
        string config = dir.File("virtioforwarder");
        string hups = dir.File("hups");
        await File.WriteAllTextAsync(config, "VIRTIOFWD_CPU_MASK=1\n");
        string daemon = dir.File("virtio-forwarder");
        await File.WriteAllTextAsync(daemon, $"#!/bin/bash\ntrap 'echo HUP >> {hups}' HUP\nwhile :; do sleep 0.1; done\n");
        File.SetUnixFileMode(daemon, (UnixFileMode)Convert.ToInt32("755", 8));
        string script = reloader.Command[2].Replace("/etc/vio4wd/virtioforwarder", config, StringComparison.Ordinal)
            .Replace("sleep 10", "sleep 0.2", StringComparison.Ordinal);
        Assert.That(reloader.Command.Take(2), Is.EqualTo(new[] { "sh", "-c" }));

        var info = new ProcessStartInfo("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", $"{daemon} & {script}"]);
        using Process pod = Process.Start(info)!;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.That(File.Exists(hups), Is.False, "no SIGHUP while the file is unchanged");
            await File.WriteAllTextAsync(config, "VIRTIOFWD_CPU_MASK=1\nVIRTIOFWD_STATIC_VFS=(net_null0=0)\n");
            await Eventually.UntilAsync(() => File.Exists(hups), "the SIGHUP", TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.That(await File.ReadAllLinesAsync(hups), Has.Length.EqualTo(1), "one SIGHUP per change");
        }
        finally
        {
            pod.Kill(entireProcessTree: true);
            await pod.WaitForExitAsync();
        }
    }
}
