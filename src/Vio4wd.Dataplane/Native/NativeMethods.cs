using System.Runtime.InteropServices;

namespace Vio4wd.Dataplane.Native;

/// <summary>The C ABI of libvio4wd (interop/include/vio4wd.h).</summary>
internal static partial class NativeMethods
{
    private const string Library = "vio4wd";

    /// <summary>Must equal VIO4WD_ABI_VERSION of the library this binding was written for.</summary>
    public const int AbiVersion = 1;

    [LibraryImport(Library, EntryPoint = "vio4wd_abi_version")]
    public static partial int AbiVersionOfLibrary();

    // The returned strings are static or thread-local in C: never freed by the marshaller.
    [LibraryImport(Library, EntryPoint = "vio4wd_dpdk_version")]
    public static partial nint DpdkVersion();

    [LibraryImport(Library, EntryPoint = "vio4wd_max_relays")]
    public static partial uint MaxRelays();

    [LibraryImport(Library, EntryPoint = "vio4wd_max_lcores")]
    public static partial uint MaxLcores();

    [LibraryImport(Library, EntryPoint = "vio4wd_eal_init", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int EalInit(int argc, string[] argv);

    [LibraryImport(Library, EntryPoint = "vio4wd_eal_is_initialized")]
    public static partial int EalIsInitialized();

    [LibraryImport(Library, EntryPoint = "vio4wd_eal_main_lcore")]
    public static partial int EalMainLcore();

    [LibraryImport(Library, EntryPoint = "vio4wd_eal_cleanup")]
    public static partial int EalCleanup();

    [LibraryImport(Library, EntryPoint = "vio4wd_last_error")]
    public static partial nint LastError();

    public static string ToManagedString(nint utf8) => Marshal.PtrToStringUTF8(utf8) ?? string.Empty;
}
