using System.Globalization;
using Vio4wd.Configuration;

namespace Vio4wd.Daemon;

/// <summary>
/// Looks for the usual reasons an EAL start fails before starting it, because DPDK reports them
/// poorly (a missing hugetlbfs mount comes back as "permission denied"): a worker CPU that is
/// offline, a hugepage directory that is missing or not hugetlbfs, too few free hugepages for the
/// memory asked for, and another DPDK process holding the same runtime folder (--file-prefix).
/// </summary>
internal static class EalPreflight
{
    private const string DpdkRunDirectory = "/var/run/dpdk";
    private const int FTest = 3;

    /// <summary>The first problem found, or null.</summary>
    public static string? Problem(VirtioForwarderOptions options, IReadOnlyList<string> ealArgs) =>
        OfflineCpu(ealArgs) ?? DisallowedCpu(ealArgs) ?? Hugepages(options, ealArgs) ?? RuntimeFolderInUse(ealArgs);

    private static string? OfflineCpu(IReadOnlyList<string> args) =>
        FirstCpuOutside(args, HostInspector.OnlineCpus(), (cpu, list, _) =>
            $"CPU {cpu} is offline or absent on this host (CPUs from VIRTIOFWD_CPU_MASK and the main lcore: {list})");

    // A container with a CPU limit, a cgroup cpuset or taskset: the EAL would fail to pin a worker
    // there with a message about affinity; say which CPUs the process may use instead.
    private static string? DisallowedCpu(IReadOnlyList<string> args) =>
        FirstCpuOutside(args, Core.Posix.Posix.AllowedCpus(), (cpu, list, allowed) =>
            $"CPU {cpu} is not among the CPUs this process may use ({string.Join(',', allowed.Order())}: its cgroup cpuset, container CPU allocation or taskset); "
            + $"give the daemon CPUs {list} (VIRTIOFWD_CPU_MASK and the main lcore), e.g. whole CPUs with the kubelet's static CPU manager");

    // The first EAL CPU (-l) not in the set, said by problem(cpu, the -l list, the set); null when
    // all are in it or either is unknown.
    private static string? FirstCpuOutside(IReadOnlyList<string> args, HashSet<int>? set, Func<int, string, HashSet<int>, string> problem) =>
        Last(args, "-l") is { } list && ValueParsers.CpuSet(list, int.MaxValue, out _) is { } cpus && set is not null
            ? cpus.Where(cpu => !set.Contains(cpu)).Select(cpu => problem(cpu, list, set)).FirstOrDefault()
            : null;

    private static string? Hugepages(VirtioForwarderOptions options, IReadOnlyList<string> args)
    {
        if (args.Any(a => a is "--no-huge" or "--in-memory") || Last(args, "--huge-dir") is not { } dir)
        {
            return null;
        }

        string setting = $"VIRTIOFWD_HUGETLBFS_MOUNT_POINT={options.HugepageDirectory}";
        if (!Directory.Exists(dir))
        {
            return $"the hugepage directory {dir} does not exist: mount hugetlbfs there (mount -t hugetlbfs nodev {dir}) or point {setting} at a hugetlbfs mount";
        }

        if (HugetlbfsMount(dir) is not { } pageSizeKb)
        {
            return $"{dir} is not a hugetlbfs mount: mount hugetlbfs there (mount -t hugetlbfs nodev {dir}) or point {setting} at a hugetlbfs mount";
        }

        long requestedMb = (Last(args, "--socket-mem") ?? Last(args, "-m") ?? "0")
            .Split(',').Sum(mb => long.TryParse(mb, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0);
        string pool = Path.Combine("/sys/kernel/mm/hugepages", $"hugepages-{pageSizeKb}kB", "free_hugepages");
        if (!File.Exists(pool) || !long.TryParse(File.ReadAllText(pool).Trim(), CultureInfo.InvariantCulture, out long free))
        {
            return null;
        }

        long freeMb = free * pageSizeKb / 1024;
        return freeMb < requestedMb
            ? $"too few free hugepages: {free} free {pageSizeKb} kB pages ({freeMb} MB) for the {requestedMb} MB asked for (--socket-mem); reserve more (echo N > /sys/kernel/mm/hugepages/hugepages-{pageSizeKb}kB/nr_hugepages) or ask for less"
            : null;
    }

    // The page size (kB) of the hugetlbfs mounted exactly at dir, or null.
    private static int? HugetlbfsMount(string dir)
    {
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        foreach (string line in File.ReadLines("/proc/mounts"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 4 || fields[2] != "hugetlbfs" || Unescape(fields[1]) != target)
            {
                continue;
            }

            string? size = fields[3].Split(',').FirstOrDefault(o => o.StartsWith("pagesize=", StringComparison.Ordinal))?["pagesize=".Length..];
            return size is null ? DefaultHugepageKb() : ParseSizeKb(size);
        }

        return null;
    }

    private static int DefaultHugepageKb()
    {
        string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("Hugepagesize:", StringComparison.Ordinal));
        return line is not null && int.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture, out int kb) ? kb : 2048;
    }

    private static int ParseSizeKb(string size) => size[^1] switch
    {
        'G' => int.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024 * 1024,
        'M' => int.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024,
        'K' or 'k' => int.Parse(size[..^1], CultureInfo.InvariantCulture),
        _ => int.Parse(size, CultureInfo.InvariantCulture) / 1024,
    };

    // DPDK's primary process holds a write lock on its runtime folder's config file for its life.
    private static string? RuntimeFolderInUse(IReadOnlyList<string> args)
    {
        if (args.Contains("--in-memory") || Last(args, "--file-prefix") is not { } prefix)
        {
            return null;
        }

        string config = Path.Combine(DpdkRunDirectory, prefix, "config");
        try
        {
            using var stream = new FileStream(config, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return PidFile.Lockf((int)stream.SafeFileHandle.DangerousGetHandle(), FTest, 0) == 0 ? null
                : $"another DPDK process is running with --file-prefix {prefix} (it holds {config}): give this daemon its own --file-prefix in VIRTIOFWD_EAL_ARGS, or stop the other process";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Unescape(string mountPath) => mountPath.Replace("\\040", " ", StringComparison.Ordinal);

    // The value of the last occurrence of an option ("--opt value" or "--opt=value"): later ones win in DPDK.
    private static string? Last(IReadOnlyList<string> args, string option)
    {
        string? value = null;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == option && i + 1 < args.Count)
            {
                value = args[i + 1];
            }
            else if (args[i].StartsWith(option + "=", StringComparison.Ordinal))
            {
                value = args[i][(option.Length + 1)..];
            }
        }

        return value;
    }
}
