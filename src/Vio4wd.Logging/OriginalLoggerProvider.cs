using Microsoft.Extensions.Logging;

namespace Vio4wd.Logging;

/// <summary>Where formatted log lines go: syslog or the console.</summary>
public interface ILogSink : IDisposable
{
    void Write(int priority, string category, string message);
}

/// <summary>The log level (a syslog priority, 0-7) in force; <c>vio4wdctl log-level</c> changes it at runtime.</summary>
public sealed class LogThreshold(int level)
{
    private volatile int _level = level;

    public int Level
    {
        get => _level;
        set => _level = value;
    }
}

/// <summary>
/// Loggers that keep the original's semantics: a message is written when its syslog priority is
/// at or below the configured level (0-7), whatever its category.
/// </summary>
public sealed class OriginalLoggerProvider(ILogSink sink, LogThreshold threshold) : ILoggerProvider
{
    public OriginalLoggerProvider(ILogSink sink, int threshold)
        : this(sink, new LogThreshold(threshold))
    {
    }

    public ILogger CreateLogger(string categoryName) => new PriorityLogger(sink, threshold, ShortName(categoryName));

    public void Dispose() => sink.Dispose();

    private static string ShortName(string category) => category[(category.LastIndexOf('.') + 1)..];

    private sealed class PriorityLogger(ILogSink sink, LogThreshold threshold, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // NOTICE and INFO share a logger level, so Log has the final word.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel != LogLevel.None
            && (logLevel == LogLevel.Information ? SyslogPriority.NoticeLevel : SyslogPriority.Of(logLevel, default)) <= threshold.Level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            int priority = SyslogPriority.Of(logLevel, eventId);
            if (logLevel == LogLevel.None || priority > threshold.Level)
            {
                return;
            }

            string message = formatter(state, exception);
            if (exception is not null)
            {
                message = $"{message}: {exception}";
            }

            sink.Write(priority, category, message);
        }
    }
}
