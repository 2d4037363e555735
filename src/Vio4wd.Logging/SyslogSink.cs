using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Vio4wd.Logging;

/// <summary>
/// syslog as the original opened it: the program's identity with the PID, its facility,
/// sent the way glibc's syslog(3) does (a datagram to /dev/log, which journald serves under
/// systemd). When no syslog daemon listens, lines go to stderr rather than nowhere.
/// </summary>
public sealed class SyslogSink : ILogSink
{
    public const string DefaultSocket = "/dev/log";

    /// <summary>Points the sink at another socket (tests, containers with a relocated /dev/log).</summary>
    public const string SocketVariable = "VIO4WD_SYSLOG_SOCKET";

    /// <summary>The daemon's facility, as the original's.</summary>
    public const int FacilityLocal0 = 16;

    /// <summary>The core scheduler's facility, as the original's.</summary>
    public const int FacilityUser = 1;

    private readonly int _facility;
    private readonly Lock _lock = new();
    private readonly string _identity;
    private readonly UnixDomainSocketEndPoint _endPoint;
    private readonly TimeProvider _time;
    private Socket? _socket;

    public SyslogSink(string identity, string path, TimeProvider time, int facility = FacilityLocal0)
    {
        _facility = facility;
        _identity = $"{identity}[{Environment.ProcessId}]";
        _endPoint = new UnixDomainSocketEndPoint(path);
        _time = time;
    }

    public static SyslogSink FromEnvironment(string identity, TimeProvider time, int facility = FacilityLocal0) =>
        new(identity, Environment.GetEnvironmentVariable(SocketVariable) ?? DefaultSocket, time, facility);

    public void Write(int priority, string category, string message)
    {
        string stamp = _time.GetLocalNow().ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture);
        byte[] datagram = Encoding.UTF8.GetBytes($"<{(_facility * 8) + priority}>{stamp} {_identity}: {message}");
        lock (_lock)
        {
            try
            {
                _socket ??= Connect();
                _socket.Send(datagram);
            }
            catch (SocketException)
            {
                // syslog restarted or is absent: try again next time, keep the line meanwhile.
                _socket?.Dispose();
                _socket = null;
                Console.Error.WriteLine($"{_identity}: {message}");
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    private Socket Connect()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(_endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
