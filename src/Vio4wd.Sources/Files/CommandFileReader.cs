using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vio4wd.Sources.Files;

/// <summary>What became of one look at the command file.</summary>
/// <param name="Content">The bytes read (at most the cap + 1), or null when refused or absent.</param>
/// <param name="Refusal">Why the file was not read, or null.</param>
/// <param name="Identity">Device, inode, size and change time of what was looked at: the same refused object is not reported twice.</param>
/// <param name="Trusted">A regular file from root or the daemon's user, not writable by all: the monitor's to consume, even when refused (too big).</param>
internal readonly record struct CommandFileLook(byte[]? Content, string? Refusal, FileIdentity Identity, bool Trusted = false);

/// <summary>What tells one file object (or one state of it) from another.</summary>
internal readonly record struct FileIdentity(ulong Dev, ulong Ino, ulong Size, long CtimeSec, uint CtimeNsec, ushort Mode, uint Uid);

/// <summary>
/// Reads the file monitor's command file as an untrusted input in a directory others can write
/// (/tmp): opened without following symbolic links and without blocking (a FIFO must not stall
/// the monitor), then judged on what was opened (no check-then-open race): a regular file,
/// owned by root or by the daemon's user, not writable by every user, and small; only then read,
/// with a cap, never allocating what a file claims its size is.
/// </summary>
internal static partial class CommandFileReader
{
    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int ONoFollow = 0x20000;
    private const int OCloExec = 0x80000;
    private const int ENoEnt = 2;
    private const int ELoop = 40;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const ushort TypeMask = 0xf000;
    private const ushort RegularFile = 0x8000;
    private const ushort WritableByOthers = 0x2;

    public static CommandFileLook Look(string path, int maxBytes)
    {
        int fd = Open(path, ORdOnly | ONonBlock | ONoFollow | OCloExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == ENoEnt ? default
                : new CommandFileLook(null, errno == ELoop ? "it is a symbolic link" : $"cannot open it: {Marshal.GetPInvokeErrorMessage(errno)}", default);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Statx(fd, string.Empty, AtEmptyPath, StatxBasicStats, out StatxBuffer st) != 0)
        {
            return new CommandFileLook(null, $"cannot examine it: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}", default);
        }

        var identity = new FileIdentity((ulong)st.DevMajor << 32 | st.DevMinor, st.Ino, st.Size, st.CtimeSec, st.CtimeNsec, st.Mode, st.Uid);
        string? refusal = (st.Mode & TypeMask) != RegularFile ? "it is not a regular file"
            : st.Uid != 0 && st.Uid != GetEuid() ? $"it is owned by uid {st.Uid}, not by root or the daemon's user"
            : (st.Mode & WritableByOthers) != 0 ? "every user may write it"
            : null;
        if (refusal is not null)
        {
            return new CommandFileLook(null, refusal, identity);
        }

        if (st.Size > (ulong)maxBytes)
        {
            return new CommandFileLook(null, $"the command file has {st.Size} bytes; a command has at most {maxBytes}", identity, Trusted: true);
        }

        byte[] buffer = new byte[maxBytes + 1];
        int length = RandomAccess.Read(handle, buffer, 0);
        return new CommandFileLook(buffer[..length], null, identity, Trusted: true);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)]
        public uint Uid;

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
