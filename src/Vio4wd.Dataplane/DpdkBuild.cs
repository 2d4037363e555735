using Vio4wd.Dataplane.Native;

using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane;

/// <summary>
/// Facts about the DPDK build libvio4wd runs against. They need no running EAL,
/// so <c>--version</c> and <c>--check-config</c> can report them.
/// </summary>
public static class DpdkBuild
{
    private static readonly Lazy<int> CheckedAbi = new(CheckAbi);

    /// <summary>DPDK's version string, e.g. "DPDK 22.11.11".</summary>
    public static string Version
    {
        get
        {
            EnsureLoaded();
            return NativeMethods.ToManagedString(NativeMethods.DpdkVersion());
        }
    }

    /// <summary>
    /// Where that DPDK came from: our build of Debian's source package, or Debian's own static
    /// archives (libdpdk-dev), which allow fewer relays and lack our DPDK patches.
    /// </summary>
    public static string Origin
    {
        get
        {
            EnsureLoaded();
            return NativeMethods.ToManagedString(NativeMethods.DpdkOrigin());
        }
    }

    /// <summary>One line for --version, --check-config and the start log: version, origin and relay maximum.</summary>
    public static string Summary => $"{Version} ({Origin}), up to {MaxRelays} relays";

    /// <summary>How many relays this DPDK build allows (RTE_MAX_ETHPORTS); ids are 0..MaxRelays-1.</summary>
    public static int MaxRelays
    {
        get
        {
            EnsureLoaded();
            return checked((int)NativeMethods.MaxRelays());
        }
    }

    /// <summary>How many lcores this DPDK build allows (RTE_MAX_LCORE); CPU ids must be below it.</summary>
    public static int MaxLcores
    {
        get
        {
            EnsureLoaded();
            return checked((int)NativeMethods.MaxLcores());
        }
    }

    /// <summary>Loads libvio4wd and checks that it speaks the ABI this binding was written for.</summary>
    public static void EnsureLoaded() => _ = CheckedAbi.Value;

    private static int CheckAbi()
    {
        int abi;
        try
        {
            abi = NativeMethods.AbiVersionOfLibrary();
        }
        catch (DllNotFoundException e)
        {
            throw new DataplaneException("loading libvio4wd", 0, $"cannot load the native dataplane library libvio4wd.so: {e.Message}");
        }

        if (abi != NativeMethods.AbiVersion)
        {
            throw new DataplaneException(
                "loading libvio4wd",
                0,
                $"libvio4wd.so speaks ABI version {abi} but this program needs version {NativeMethods.AbiVersion}: rebuild both together");
        }

        return abi;
    }
}
