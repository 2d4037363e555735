using Vio4wd.Dataplane;
using System.Globalization;
using System.Runtime.InteropServices;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Compares the configuration with this host: online CPUs, directories, accounts, PCI devices.
/// A config file may be written for another host, so these are warnings for --check-config;
/// a daemon start fails on them later, where they matter.
/// </summary>
internal static partial class HostInspector
{
    private const string SysCpu = "/sys/devices/system/cpu";
    private const string SysNode = "/sys/devices/system/node";

    public static IReadOnlyList<string> Check(VirtioForwarderOptions options)
    {
        var warnings = new List<string>();
        HashSet<int>? online = OnlineCpus();
        if (online is not null)
        {
            foreach (int cpu in options.WorkerCpus.Where(c => !online.Contains(c)))
            {
                warnings.Add($"worker CPU {cpu} (VIRTIOFWD_CPU_MASK) is not online on this host");
            }

            if (!online.Contains(options.MainLcore))
            {
                warnings.Add($"main lcore {options.MainLcore} (VIRTIOFWD_MASTER_LCORE) is not online on this host");
            }
        }

        if (!Directory.Exists(options.PidDirectory))
        {
            warnings.Add($"PID directory {options.PidDirectory} (VIRTIOFWD_PID_DIR) does not exist");
        }

        bool usesHugepages = !options.ExtraEalArguments.Any(a => a is "--no-huge" or "--in-memory");
        if (usesHugepages && !Directory.Exists(options.HugepageDirectory))
        {
            warnings.Add($"hugepage directory {options.HugepageDirectory} (VIRTIOFWD_HUGETLBFS_MOUNT_POINT) does not exist");
        }

        CheckAccount(options.SocketOwner, "user", "VIRTIOFWD_SOCKET_OWNER", name => GetPwNam(name) != 0, warnings);
        CheckAccount(options.SocketGroup, "group", "VIRTIOFWD_SOCKET_GROUP", name => GetGrNam(name) != 0, warnings);

        foreach (StaticVf vf in options.StaticVfs.Where(v => v.Device.Pci is not null))
        {
            if (!Directory.Exists($"/sys/bus/pci/devices/{vf.Device.Pci}"))
            {
                warnings.Add($"static VF {vf.Device.Pci} (relay {vf.RelayId}) is not a PCI device on this host");
            }
        }

        return warnings;
    }

    public static NumaTopology Numa()
    {
        var nodeOfCpu = new Dictionary<int, int>();
        int nodes = 0;
        if (Directory.Exists(SysNode))
        {
            foreach (string nodeDir in Directory.EnumerateDirectories(SysNode, "node*"))
            {
                if (!int.TryParse(Path.GetFileName(nodeDir)[4..], CultureInfo.InvariantCulture, out int node))
                {
                    continue;
                }

                nodes = Math.Max(nodes, node + 1);
                foreach (string cpuDir in Directory.EnumerateDirectories(nodeDir, "cpu*"))
                {
                    if (int.TryParse(Path.GetFileName(cpuDir)[3..], CultureInfo.InvariantCulture, out int cpu))
                    {
                        nodeOfCpu[cpu] = node;
                    }
                }
            }
        }

        return new NumaTopology(nodeOfCpu, Math.Max(1, nodes));
    }

    /// <summary>The kernel's list of online CPUs, or null where it cannot be read.</summary>
    public static HashSet<int>? OnlineCpus()
    {
        string path = Path.Combine(SysCpu, "online");
        if (!File.Exists(path))
        {
            return null;
        }

        // The kernel's CPU list format ("0-3,5") is the config file's list form.
        return ValueParsers.CpuSet(File.ReadAllText(path).Trim(), int.MaxValue, out _)?.ToHashSet();
    }

    private static void CheckAccount(SocketAccount account, string kind, string variable, Func<string, bool> exists, List<string> warnings)
    {
        if (account.Inherit || account.Name is null || account.Name.All(char.IsAsciiDigit) || exists(account.Name))
        {
            return;
        }

        warnings.Add(account.IsDefault
            ? $"default socket {kind} {account.Name} does not exist on this host; sockets will keep the daemon's own {kind}"
            : $"socket {kind} {account.Name} ({variable}) does not exist on this host");
    }

    /// <summary>
    /// The uid a socket owner setting names: null keeps the daemon's own (inherit, or a default
    /// account this host lacks). A missing named account is an error the caller reports.
    /// </summary>
    public static int? UserId(SocketAccount account, out string? error) =>
        ResolveAccount(account, "user", GetPwNam, offset: 16, out error);

    public static int? GroupId(SocketAccount account, out string? error) =>
        ResolveAccount(account, "group", GetGrNam, offset: 16, out error);

    // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; ... } and
    // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; ... }: the id is at 16.
    private static int? ResolveAccount(SocketAccount account, string kind, Func<string, nint> lookup, int offset, out string? error)
    {
        error = null;
        if (account.Inherit || account.Name is null)
        {
            return null;
        }

        if (account.Name.All(char.IsAsciiDigit))
        {
            // Any number of digits may come in; ids are 0 .. 2^31-1 here (uid_t -1 means "unchanged").
            if (int.TryParse(account.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
            {
                return id;
            }

            error = $"socket {kind} id {account.Name} is out of range (0..{int.MaxValue})";
            return null;
        }

        nint entry = lookup(account.Name);
        if (entry == 0)
        {
            if (!account.IsDefault)
            {
                error = $"socket {kind} '{account.Name}' does not exist";
            }

            return null;
        }

        return Marshal.ReadInt32(entry, offset);
    }

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetGrNam(string name);
}
