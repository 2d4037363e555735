using System.Diagnostics;
using System.Globalization;

namespace Vio4wd.Testing;

/// <summary>
/// The DPDK this tree links, read from what interop/dpdk/build.sh made (never from the product),
/// so tests can check what the product reports and adapt to what this build allows: our build of
/// Debian's source allows 512 ports and carries our DPDK patches; Debian's own static archives
/// (libdpdk-dev, used where the source cannot be fetched) allow 32 and carry none.
/// </summary>
public static class DpdkBuildFacts
{
    private static readonly Lazy<string> LazyPrefix = new(ReadPrefix);

    /// <summary>The cache entry build.sh prints: vio4wd-dpdk.cmake, include/, lib/pkgconfig/.</summary>
    public static string Prefix => LazyPrefix.Value;

    /// <summary>The version in DPDK's own pkg-config file, e.g. "22.11.11".</summary>
    public static string PkgConfigVersion =>
        File.ReadLines(Path.Combine(Prefix, "lib", "pkgconfig", "libdpdk.pc"))
            .Single(l => l.StartsWith("Version: ", StringComparison.Ordinal))["Version: ".Length..].Trim();

    /// <summary>RTE_MAX_ETHPORTS of the build: the most relays it allows.</summary>
    public static int MaxEthports
    {
        get
        {
            string define = File.ReadLines(Path.Combine(Prefix, "include", "rte_build_config.h"))
                .Single(l => l.StartsWith("#define RTE_MAX_ETHPORTS ", StringComparison.Ordinal));
            return int.Parse(define.Split(' ')[^1], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The daemon's default VIRTIOFWD_MAX_RELAYS with this build: 256, or fewer if the build allows fewer.</summary>
    public static int DefaultMaxRelays => Math.Min(256, MaxEthports);

    /// <summary>True for Debian's own archives (libdpdk-dev): no patches of ours are in them.</summary>
    public static bool IsDebiansOwn =>
        File.ReadAllText(Path.Combine(Prefix, "vio4wd-dpdk.cmake")).Contains("set(DPDK_ORIGIN \"Debian's libdpdk-dev\")", StringComparison.Ordinal);

    /// <summary>An EAL worker lcore's thread name: "rte-worker-1" in DPDK 22.11, "dpdk-worker1" from 23.11.</summary>
    public static bool IsWorkerThread(string name) =>
        name.StartsWith("rte-worker", StringComparison.Ordinal) || name.StartsWith("dpdk-worker", StringComparison.Ordinal);

    private static string ReadPrefix()
    {
        var info = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "interop", "dpdk", "build.sh"), "--prefix") { RedirectStandardOutput = true };
        using Process process = Process.Start(info)!;
        string prefix = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return prefix.Length > 0 ? prefix : throw new InvalidOperationException("interop/dpdk/build.sh --prefix printed nothing");
    }
}
