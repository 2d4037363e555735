using System.Globalization;
using Vio4wd.Configuration;

namespace Vio4wd.Dataplane;

/// <summary>The NUMA layout the EAL memory reservation is sized for.</summary>
/// <param name="NodeOfCpu">NUMA node of each online CPU.</param>
/// <param name="NodeCount">Number of NUMA nodes (at least 1).</param>
public sealed record NumaTopology(IReadOnlyDictionary<int, int> NodeOfCpu, int NodeCount);

/// <summary>
/// Derives the DPDK EAL arguments from the options, as the original did (§6.1 of its description),
/// with its defects fixed: CPUs as an lcore list (no 64-CPU bitmap), syslog levels mapped onto
/// DPDK's (which start at 1), and extra arguments (<c>VIRTIOFWD_EAL_ARGS</c>) taking precedence.
/// </summary>
public static class EalArgumentsBuilder
{
    public const int SocketMemoryMb = 768;
    public const int JumboSocketMemoryMb = 2750;

    /// <summary>An allow-list entry no device matches, so no PCI device is probed at start-up;
    /// VFs are hot-plugged later (with <c>--no-pci</c> hot-plug would fail).</summary>
    public const string NoPciDeviceAllowed = "ffff:ff:ff.f";

    public static IReadOnlyList<string> Build(VirtioForwarderOptions options, NumaTopology numa)
    {
        IReadOnlyList<string> extra = options.ExtraEalArguments;
        bool noHugepages = extra.Any(a => a is "--no-huge" or "--in-memory" || a.StartsWith("-m", StringComparison.Ordinal));
        var args = new List<string> { "--main-lcore", Number(options.MainLcore) };
        // Worker "CPUs" are lcore ids; an operator who maps lcores to CPUs with --lcores (two
        // workers sharing a core on a small machine, say) gives the list, and -l would contradict it.
        if (!Has(extra, "--lcores"))
        {
            args.AddRange(["-l", string.Join(',', options.WorkerCpus.Append(options.MainLcore).Order())]);
        }

        args.AddRange(["--log-level", Number(options.LogLevel + 1), "-n", "4"]);

        // The vhost library logs ~26 INFO lines per VM connection; operators want them only
        // when they asked for debug logs. (Extra arguments come later and win.)
        if (options.LogLevel < 7)
        {
            args.AddRange(["--log-level", "lib.vhost.config:notice"]);
        }

        if (!Has(extra, "--file-prefix"))
        {
            args.AddRange(["--file-prefix", "virtio-forwarder_"]);
        }

        if (!noHugepages)
        {
            args.AddRange(["--huge-dir", options.HugepageDirectory, "--huge-unlink", "--socket-mem", SocketMemory(options, numa)]);
        }

        if (!extra.Contains("--no-pci"))
        {
            args.AddRange(["-a", NoPciDeviceAllowed]);
        }

        if (options.VfioVfToken is not null)
        {
            args.AddRange(["--vfio-vf-token", options.VfioVfToken]);
        }

        args.AddRange(extra);
        return args;
    }

    private static string SocketMemory(VirtioForwarderOptions options, NumaTopology numa)
    {
        var workerNodes = options.WorkerCpus.Select(c => numa.NodeOfCpu.GetValueOrDefault(c)).ToHashSet();
        int perWorkerNode = options.Jumbo || options.Tso ? JumboSocketMemoryMb : SocketMemoryMb;
        int elsewhere = options.SameNuma ? 0 : 1;
        return string.Join(',', Enumerable.Range(0, Math.Max(1, numa.NodeCount))
            .Select(node => Number(workerNodes.Contains(node) ? perWorkerNode : elsewhere)));
    }

    private static bool Has(IReadOnlyList<string> args, string option) =>
        args.Any(a => a == option || a.StartsWith(option + "=", StringComparison.Ordinal));

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
