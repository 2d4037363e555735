using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Vio4wd.Core.Model;

/// <summary>
/// What a control socket file gets (the control API's, the ZMQ ipc:// ones): mode 0660, so only
/// its owner and group can use it, and the configured owner and group (null: the daemon's).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial record SocketPermissions(int? Uid, int? Gid)
{
    /// <exception cref="IOException">The owner or group could not be given.</exception>
    public void Apply(string path)
    {
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        if ((Uid is not null || Gid is not null) && Chown(path, Uid ?? -1, Gid ?? -1) != 0)
        {
            throw new IOException($"cannot give {path} to {Uid}:{Gid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, int owner, int group);
}
