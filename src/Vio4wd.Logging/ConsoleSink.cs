using System.Globalization;

namespace Vio4wd.Logging;

/// <summary>
/// <c>--nodaemon</c>: one line per message on stdout, flushed at once, as the original wrote it:
/// time, origin, a level marker (<c>x ! ^ * # - ? .</c> for 0..7) and the message.
/// </summary>
public sealed class ConsoleSink(TextWriter output, TimeProvider time) : ILogSink
{
    private const string Markers = "x!^*#-?.";
    private readonly Lock _lock = new();

    public void Write(int priority, string category, string message)
    {
        string stamp = time.GetLocalNow().ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture);
        lock (_lock)
        {
            output.WriteLine($"{stamp} {category} {Markers[priority]} {message}");
            output.Flush();
        }
    }

    public void Dispose() => output.Flush();
}
