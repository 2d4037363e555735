using Microsoft.Extensions.Logging;

namespace Vio4wd.Logging;

/// <summary>
/// The original's log levels are syslog priorities (0 EMERG .. 7 DEBUG). Logger levels map onto
/// them; NOTICE, which the logger has no level for, is Information with the <see cref="Notice"/> event.
/// </summary>
public static class SyslogPriority
{
    public const int Critical = 2;
    public const int Error = 3;
    public const int Warning = 4;
    public const int NoticeLevel = 5;
    public const int Info = 6;
    public const int Debug = 7;

    public static readonly EventId Notice = new(5, "Notice");

    public static int Of(LogLevel level, EventId eventId) => level switch
    {
        LogLevel.Critical => Critical,
        LogLevel.Error => Error,
        LogLevel.Warning => Warning,
        LogLevel.Information when eventId == Notice => NoticeLevel,
        LogLevel.Information => Info,
        _ => Debug,
    };

    /// <summary>Logs at NOTICE: shown at the original's level 5 and above.</summary>
    public static void LogNotice(this ILogger logger, string message) =>
        logger.Log(LogLevel.Information, Notice, message, null, static (m, _) => m);
}
