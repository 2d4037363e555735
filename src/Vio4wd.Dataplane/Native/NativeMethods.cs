using System.Runtime.InteropServices;

using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Native;

/// <summary>The C ABI of libvio4wd (interop/include/vio4wd.h).</summary>
internal static partial class NativeMethods
{
    private const string Library = "vio4wd";

    /// <summary>Must equal VIO4WD_ABI_VERSION of the library this binding was written for.</summary>
    public const int AbiVersion = 9;

    public const int MaxQueuePairs = 32;
    public const int MaxBondMembers = 8;
    public const int PathLength = 108;
    public const int DeviceLength = 512;

    public const uint OptJumbo = 1u << 0;
    public const uint OptMergeableBuffers = 1u << 1;
    public const uint OptTso = 1u << 2;

    [LibraryImport(Library, EntryPoint = "vio4wd_abi_version")]
    public static partial int AbiVersionOfLibrary();

    // The returned strings are static or thread-local in C: never freed by the marshaller.
    [LibraryImport(Library, EntryPoint = "vio4wd_dpdk_version")]
    public static partial nint DpdkVersion();

    [LibraryImport(Library, EntryPoint = "vio4wd_dpdk_origin")]
    public static partial nint DpdkOrigin();

    [LibraryImport(Library, EntryPoint = "vio4wd_max_relays")]
    public static partial uint MaxRelays();

    [LibraryImport(Library, EntryPoint = "vio4wd_max_lcores")]
    public static partial uint MaxLcores();

    [LibraryImport(Library, EntryPoint = "vio4wd_set_log_level")]
    public static partial void SetLogLevel(uint level);

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

    [LibraryImport(Library, EntryPoint = "vio4wd_dataplane_start")]
    public static partial int DataplaneStart(in NativeOptions options);

    [LibraryImport(Library, EntryPoint = "vio4wd_dataplane_stop")]
    public static partial int DataplaneStop();

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_attach", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RelayAttach(uint relay, string[] devices, uint count, int bondMode);

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_detach")]
    public static partial int RelayDetach(uint relay);

    [LibraryImport(Library, EntryPoint = "vio4wd_test_device_removed")]
    public static partial int TestDeviceRemoved(uint relay);

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_register_socket", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RelayRegisterSocket(uint relay, string path, int client);

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_unregister_socket")]
    public static partial int RelayUnregisterSocket(uint relay);

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_set_cpus")]
    public static partial int RelaySetCpus(uint relay, int vfToVmCpu, int vmToVfCpu);

    [LibraryImport(Library, EntryPoint = "vio4wd_relay_get")]
    public static partial int RelayGet(uint relay, out NativeRelayInfo info);

    [LibraryImport(Library, EntryPoint = "vio4wd_worker_count")]
    public static partial int WorkerCount();

    [LibraryImport(Library, EntryPoint = "vio4wd_worker_get")]
    public static partial int WorkerGet(uint index, out NativeWorkerInfo info);

    [LibraryImport(Library, EntryPoint = "vio4wd_event_wait")]
    public static partial int EventWait(out NativeEvent ev, int timeoutMs);


    public static string ToManagedString(nint utf8) => Marshal.PtrToStringUTF8(utf8) ?? string.Empty;

    /// <summary>struct vio4wd_field_layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct FieldLayout
    {
        public nint Type;
        public nint Field;
        public uint Offset;
        public uint Size;
    }

    [LibraryImport(Library, EntryPoint = "vio4wd_layout")]
    internal static partial nint Layout(out uint count);
}
