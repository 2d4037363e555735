using Microsoft.Win32.SafeHandles;
using Vio4wd.Core.Posix;

namespace Vio4wd.Sources.Files;

/// <summary>What became of one look at the command file.</summary>
/// <param name="Content">The bytes read (at most the cap + 1), or null when refused or absent.</param>
/// <param name="Refusal">Why the file was not read, or null.</param>
/// <param name="Identity">Device, inode, size and change time of what was looked at: the same refused object is not reported twice.</param>
/// <param name="Trusted">A regular file from root or the daemon's user, not writable by all: the monitor's to consume, even when refused (too big).</param>
internal readonly record struct CommandFileLook(byte[]? Content, string? Refusal, FileStatus Identity, bool Trusted = false);

/// <summary>
/// Reads the file monitor's command file as an untrusted input in a directory others can write
/// (/tmp): opened without following symbolic links and without blocking (a FIFO must not stall
/// the monitor), then judged on what was opened (no check-then-open race): a regular file,
/// owned by root or by the daemon's user, not writable by every user, and small; only then read,
/// with a cap, never allocating what a file claims its size is.
/// </summary>
internal static class CommandFileReader
{
    private const int WritableByOthers = 0x2;

    public static CommandFileLook Look(string path, int maxBytes)
    {
        using SafeFileHandle handle = Posix.Open(path, Posix.ReadOnly | Posix.NonBlock | Posix.NoFollow, out int errno);
        if (handle.IsInvalid)
        {
            return errno == Posix.ENoEnt ? default
                : new CommandFileLook(null, errno == Posix.ELoop ? "it is a symbolic link" : $"cannot open it: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}", default);
        }

        FileStatus st;
        try
        {
            st = Posix.Status(handle);
        }
        catch (IOException e)
        {
            return new CommandFileLook(null, $"cannot examine it: {e.Message}", default);
        }

        string? refusal = !st.IsRegularFile ? "it is not a regular file"
            : st.Uid != 0 && st.Uid != Posix.EffectiveUserId ? $"it is owned by uid {st.Uid}, not by root or the daemon's user"
            : (st.Permissions & WritableByOthers) != 0 ? "every user may write it"
            : null;
        if (refusal is not null)
        {
            return new CommandFileLook(null, refusal, st);
        }

        if (st.Size > (ulong)maxBytes)
        {
            return new CommandFileLook(null, $"the command file has {st.Size} bytes; a command has at most {maxBytes}", st, Trusted: true);
        }

        byte[] buffer = new byte[maxBytes + 1];
        int length = RandomAccess.Read(handle, buffer, 0);
        return new CommandFileLook(buffer[..length], null, st, Trusted: true);
    }
}
