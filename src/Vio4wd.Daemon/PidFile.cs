using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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
            int fd = Open(path, ORdWr | OCreat | ONoFollow | OCloExec, 0b110_100_100);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                error = errno == ELoop
                    ? $"the PID file {path} is a symbolic link; refusing to follow it"
                    : $"cannot open the PID file {path}: {Marshal.GetPInvokeErrorMessage(errno)}";
                return null;
            }

            stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite);
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
    private const int ORdWr = 0x2;
    private const int OCreat = 0x40;
    private const int ONoFollow = 0x20000;
    private const int OCloExec = 0x80000;
    private const int ELoop = 40;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

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
