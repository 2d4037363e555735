using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vio4wd.Core.Posix;

namespace Vio4wd.Daemon;

/// <summary>
/// <c>&lt;pid-dir&gt;/virtio-forwarder.pid</c>, held under an exclusive lock for the daemon's life,
/// so a second instance refuses to start instead of fighting the first over DPDK and sockets.
/// </summary>
internal sealed partial class PidFile : IDisposable
{
    private readonly FileStream _stream;

    private PidFile(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock and writes our PID; null with <paramref name="error"/> when it cannot.</summary>
    public static PidFile? Acquire(string path, out string? error)
    {
        error = null;
        FileStream stream;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            // Never through a symbolic link: root would truncate whatever it points at.
            SafeFileHandle handle = Posix.Open(path, Posix.ReadWrite | Posix.Create | Posix.NoFollow, out int errno, 0b110_100_100);
            if (handle.IsInvalid)
            {
                error = errno == Posix.ELoop
                    ? $"the PID file {path} is a symbolic link; refusing to follow it"
                    : $"cannot open the PID file {path}: {Marshal.GetPInvokeErrorMessage(errno)}";
                return null;
            }

            stream = new FileStream(handle, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot open the PID file {path}: {e.Message}";
            return null;
        }

        // A POSIX record lock, as the original's lockf(): it keeps a second daemon out but not
        // readers (a .NET FileShare.None lock would refuse even `cat`-like readers in .NET).
        if (Lockf((int)stream.SafeFileHandle.DangerousGetHandle(), FTlock, 0) != 0)
        {
            stream.Dispose();
            string holder = ReadPid(path) is { } pid ? $" (pid {pid})" : string.Empty;
            error = $"another virtio-forwarder{holder} is running: {path} is locked";
            return null;
        }

        stream.SetLength(0);
        byte[] content = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        stream.Write(content);
        stream.Flush(flushToDisk: true);
        return new PidFile(stream, path);
    }

    public void Dispose()
    {
        // Removed while still locked, so a new instance never sees our stale PID.
        File.Delete(Path);
        _stream.Dispose();
    }

    private const int FTlock = 2;

    [LibraryImport("libc", EntryPoint = "lockf", SetLastError = true)]
    internal static partial int Lockf(int fd, int command, long length);

    private static string? ReadPid(string path)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            string text = reader.ReadToEnd().Trim();
            return text.Length > 0 ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
