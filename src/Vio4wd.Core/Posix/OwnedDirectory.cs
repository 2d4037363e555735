using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Vio4wd.Core.Posix;

/// <summary>
/// A directory only root and one configured owner may write, such as the vhost-user socket
/// directory: whoever else can write it can serve a relay's socket in client mode (and receive
/// its VF's traffic) or swap one in server mode. We create it with the owner, group and mode we
/// want; one that already exists is used only when nobody else can write it.
/// </summary>
public static class OwnedDirectory
{
    /// <summary>rwxr-x---: the owner (QEMU's user, which creates client-mode sockets) writes; the group reads.</summary>
    public const int DefaultMode = 0b111_101_000;

    private const int WritableByGroup = 0b000_010_000;
    private const int WritableByOthers = 0b000_000_010;

    /// <summary>
    /// Creates <paramref name="path"/> (mode <paramref name="mode"/>, owner <paramref name="uid"/>,
    /// group <paramref name="gid"/>; null keeps ours), or checks the one there and gives it that
    /// owner and group. Null when it may be used, else why not, naming the path, its owner and its mode.
    /// </summary>
    public static string? Prepare(string path, int? uid, int? gid, int mode = DefaultMode)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } parent)
        {
            try
            {
                Directory.CreateDirectory(parent);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"cannot create {parent}: {e.Message}";
            }
        }

        int made = Posix.MakeDirectory(path, 0b111_000_000);
        if (made != 0 && made != Posix.EExist)
        {
            return $"cannot create {path}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(made)}";
        }

        using SafeFileHandle directory = OpenDirectory(path, out string? unopened);
        if (unopened is not null)
        {
            return unopened;
        }

        try
        {
            if (made == 0)
            {
                // Set on what we opened, so nothing swapped in at the path since mkdir gets them.
                Posix.ChangeOwner(directory, uid ?? -1, gid ?? -1);
                Posix.ChangeMode(directory, mode);
                return null;
            }

            if (Refusal(path, Posix.Status(directory), uid) is { } refusal)
            {
                return refusal;
            }

            // As the original's pre-start did (chown, chgrp): the socket owner's QEMU creates
            // client-mode sockets here. Its mode stays the operator's.
            if (uid is not null || gid is not null)
            {
                Posix.ChangeOwner(directory, uid ?? -1, gid ?? -1);
            }

            return null;
        }
        catch (IOException e)
        {
            return $"cannot set up {path}: {e.Message}";
        }
    }

    /// <summary>
    /// Checks a directory someone else made and keeps (Open vSwitch's run directory, say) without
    /// changing it: null when only root and the owner <paramref name="uid"/> may write it, else why not.
    /// </summary>
    public static string? Check(string path, int? uid)
    {
        using SafeFileHandle directory = OpenDirectory(path, out string? unopened);
        return unopened ?? Refusal(path, Posix.Status(directory), uid);
    }

    // The directory itself, never what a link there points to; why not, when it cannot be opened.
    private static SafeFileHandle OpenDirectory(string path, out string? problem)
    {
        SafeFileHandle directory = Posix.Open(path, Posix.ReadOnly | Posix.Directory | Posix.NoFollow, out int errno);
        problem = !directory.IsInvalid ? null : errno switch
        {
            // With O_DIRECTORY a link says ENOTDIR; asked only to word the refusal.
            Posix.ELoop or Posix.ENotDir when new FileInfo(path).LinkTarget is not null => $"{path} is a symbolic link; refusing to follow it",
            Posix.ENotDir => $"{path} is not a directory",
            _ => $"cannot open {path}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}",
        };
        return directory;
    }

    private static string? Refusal(string path, FileStatus st, int? uid)
    {
        bool trustedOwner = st.Uid == 0 || st.Uid == Posix.EffectiveUserId || (uid is { } owner && st.Uid == (uint)owner);
        bool othersWrite = (st.Permissions & WritableByOthers) != 0 || ((st.Permissions & WritableByGroup) != 0 && st.Gid != 0);
        return trustedOwner && !othersWrite
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"{path} (owner uid {st.Uid}, group gid {st.Gid}, mode {Convert.ToString(st.Permissions, 8).PadLeft(4, '0')}) may be written by others than root and the socket owner; refusing to use it (remove it to let the daemon create it, or make it belong to root or the socket owner with mode 0750)");
    }
}
