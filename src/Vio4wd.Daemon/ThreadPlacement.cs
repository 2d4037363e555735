using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Vio4wd.Daemon;

/// <summary>
/// Keeps the daemon's own threads (the .NET runtime's and the control plane's) off the worker
/// CPUs. A thread woken on a CPU where a worker polls flat out waits out the scheduler's wakeup
/// granularity (milliseconds, on every hop of a plug) and takes its cycles from forwarding. EAL
/// lcore threads are pinned to one CPU each and keep it; DPDK keeps its own control threads off
/// the lcores already. Threads created later inherit the mask of the thread creating them.
/// </summary>
internal static partial class ThreadPlacement
{
    private const int MaskWords = 16; // cpu_set_t: 1024 CPUs

    /// <summary>Moves every thread allowed on more than one CPU off <paramref name="workerCpus"/>; answers how many moved and the CPUs they keep.</summary>
    public static (int Moved, IReadOnlyList<int> Cpus) KeepOff(IReadOnlyCollection<int> workerCpus)
    {
        ArgumentNullException.ThrowIfNull(workerCpus);
        var workers = new ulong[MaskWords];
        foreach (int cpu in workerCpus)
        {
            workers[cpu / 64] |= 1UL << (cpu % 64);
        }

        // The process's first thread was never pinned: its mask is what the daemon may use.
        if (!TryGetAffinity(Environment.ProcessId, out ulong[] allowed))
        {
            return (0, []);
        }

        ulong[] target = [.. allowed.Select((word, i) => word & ~workers[i])];
        if (target.All(word => word == 0))
        {
            return (0, []); // every CPU runs a worker: nowhere else to go
        }

        int moved = 0;
        foreach (string task in Directory.EnumerateDirectories($"/proc/{Environment.ProcessId}/task"))
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid)
                && !IsLcore(task)
                && TryGetAffinity(tid, out ulong[] mask)
                && mask.Sum(BitOperations.PopCount) > 1
                && mask.Where((word, i) => (word & workers[i]) != 0).Any()
                && SetAffinity(tid, target))
            {
                moved++;
            }
        }

        return (moved, [.. Enumerable.Range(0, MaskWords * 64).Where(cpu => (target[cpu / 64] & (1UL << (cpu % 64))) != 0)]);
    }

    // EAL lcore threads (workers, and the main lcore's: the dataplane's control thread) keep the
    // CPUs EAL gave them, even a set (--lcores 1@(1,2)).
    private static bool IsLcore(string task)
    {
        try
        {
            string name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
            return Dataplane.EalSession.IsWorkerThreadName(name) || name == Dataplane.EalSession.ControlThreadName;
        }
        catch (IOException)
        {
            return true; // ended meanwhile: nothing to move
        }
    }

    private static unsafe bool TryGetAffinity(int tid, out ulong[] mask)
    {
        mask = new ulong[MaskWords];
        fixed (ulong* words = mask)
        {
            return SchedGetAffinity(tid, (nuint)(MaskWords * sizeof(ulong)), words) == 0;
        }
    }

    // A thread that ended meanwhile (ESRCH) is no failure.
    private static unsafe bool SetAffinity(int tid, ulong[] mask)
    {
        fixed (ulong* words = mask)
        {
            return SchedSetAffinity(tid, (nuint)(MaskWords * sizeof(ulong)), words) == 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static unsafe partial int SchedGetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nuint size, ulong* mask);
}
