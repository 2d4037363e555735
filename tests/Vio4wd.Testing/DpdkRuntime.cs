namespace Vio4wd.Testing;

/// <summary>The EAL runtime folders (/var/run/dpdk/&lt;file-prefix&gt;) of DPDK processes a test started.</summary>
public static class DpdkRuntime
{
    public static string DirectoryOf(string prefix) => Path.Combine("/var/run/dpdk", prefix);

    /// <summary>Removes the folders left by processes that were killed or failed (a non-root process's are under /tmp/dpdk).</summary>
    public static void Remove(params IEnumerable<string> prefixes)
    {
        foreach (string dir in prefixes.SelectMany(p => new[] { DirectoryOf(p), Path.Combine("/tmp/dpdk", p) }).Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
