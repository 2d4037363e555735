using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vio4wd.Core.Posix;

/// <summary>What <c>statx</c> says about an open file: type and mode, owner, identity, size, change time.</summary>
public readonly record struct FileStatus(ulong Dev, ulong Ino, ulong Size, long CtimeSec, uint CtimeNsec, ushort Mode, uint Uid, uint Gid)
{
    private const ushort TypeMask = 0xf000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    /// <summary>The permission bits, as <c>ls -l</c> shows them in octal.</summary>
    public int Permissions => Mode & 0xfff;
}

/// <summary>
/// The few libc calls .NET does not offer: opening without following symbolic links and acting
/// on what was opened (fstat, fchown, fchmod), so no check can be raced by a swap of the path.
/// </summary>
public static partial class Posix
{
    public const int ReadOnly = 0;
    public const int ReadWrite = 0x2;
    public const int Create = 0x40;
    public const int NonBlock = 0x800;
    public const int Directory = 0x10000;
    public const int NoFollow = 0x20000;
    public const int CloseOnExec = 0x80000;

    public const int ENoEnt = 2;
    public const int EExist = 17;
    public const int ENotDir = 20;
    public const int ELoop = 40;

    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>open(2); the handle is invalid and <paramref name="errno"/> set when it fails.</summary>
    public static SafeFileHandle Open(string path, int flags, out int errno, int mode = 0)
    {
        int fd = OpenNative(path, flags | CloseOnExec, mode);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>fstat of an open file, through statx (the same layout on every architecture).</summary>
    public static FileStatus Status(SafeFileHandle file)
    {
        if (Statx((int)file.DangerousGetHandle(), string.Empty, AtEmptyPath, StatxBasicStats, out StatxBuffer st) != 0)
        {
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        return new FileStatus((ulong)st.DevMajor << 32 | st.DevMinor, st.Ino, st.Size, st.CtimeSec, st.CtimeNsec, st.Mode, st.Uid, st.Gid);
    }

    /// <summary>fchown(2) of an open file; -1 leaves that id as it is.</summary>
    public static void ChangeOwner(SafeFileHandle file, long uid, long gid)
    {
        if (Fchown((int)file.DangerousGetHandle(), (uint)uid, (uint)gid) != 0)
        {
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>fchmod(2) of an open file: the mode exactly, whatever the umask.</summary>
    public static void ChangeMode(SafeFileHandle file, int mode)
    {
        if (Fchmod((int)file.DangerousGetHandle(), (uint)mode) != 0)
        {
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>mkdir(2); 0 or the errno. A symbolic link at the path is never followed (EEXIST).</summary>
    public static int MakeDirectory(string path, int mode) =>
        Mkdir(path, (uint)mode) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static uint EffectiveUserId => GetEuid();

    /// <summary>The CPUs this process may run on (sched_getaffinity: its cgroup cpuset, taskset, a container's CPUs); null if unknown.</summary>
    public static unsafe HashSet<int>? AllowedCpus()
    {
        const int Bytes = 1024; // cpu_set_t for up to 8192 CPUs
        byte* mask = stackalloc byte[Bytes];
        if (SchedGetAffinity(0, Bytes, mask) != 0)
        {
            return null;
        }

        var cpus = new HashSet<int>();
        for (int cpu = 0; cpu < Bytes * 8; cpu++)
        {
            if ((mask[cpu / 8] & (1 << (cpu % 8))) != 0)
            {
                cpus.Add(cpu);
            }
        }

        return cpus;
    }

    /// <summary>umask(2) for the whole process; returns the previous mask.</summary>
    public static int SetFileCreationMask(int mask) => (int)Umask((uint)mask);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenNative(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int Fchown(int fd, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int Fchmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Mkdir(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static unsafe partial int SchedGetAffinity(int pid, nuint size, byte* mask);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>struct statx (linux/stat.h).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)]
        public uint Uid;

        [FieldOffset(24)]
        public uint Gid;

        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Ino;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(96)]
        public long CtimeSec;

        [FieldOffset(104)]
        public uint CtimeNsec;

        [FieldOffset(136)]
        public uint DevMajor;

        [FieldOffset(140)]
        public uint DevMinor;
    }
}
