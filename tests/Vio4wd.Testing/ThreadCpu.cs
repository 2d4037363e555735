using System.Globalization;

namespace Vio4wd.Testing;

/// <summary>CPU time of a process's threads, from /proc: what a test measures a daemon's or a worker's cost by.</summary>
public static class ThreadCpu
{
    /// <summary>User and system seconds of the threads of <paramref name="pid"/> ("self" for this process) whose name passes <paramref name="include"/>.</summary>
    public static double Seconds(string pid, Func<string, bool> include) => Directory.EnumerateDirectories($"/proc/{pid}/task").Sum(task =>
    {
        try
        {
            if (!include(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n')))
            {
                return 0;
            }

            string[] fields = File.ReadAllText(Path.Combine(task, "stat")).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // utime and stime, in clock ticks of 1/100 s (USER_HZ).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0; // a thread that ended meanwhile
        }
    });
}
