using Microsoft.Extensions.Logging;

namespace Vio4wd.Logging;

/// <summary>Where formatted log lines go: syslog or the console.</summary>
public interface ILogSink : IDisposable
{
    void Write(int priority, string category, string message);
}

/// <summary>
/// Loggers that keep the original's semantics: a message is written when its syslog priority is
/// at or below the configured level (0-7), whatever its category.
/// </summary>
public sealed class OriginalLoggerProvider(ILogSink sink, int threshold) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new PriorityLogger(sink, threshold, ShortName(categoryName));

    public void Dispose() => sink.Dispose();

    private static string ShortName(string category) => category[(category.LastIndexOf('.') + 1)..];

    private sealed class PriorityLogger(ILogSink sink, int threshold, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // NOTICE and INFO share a logger level, so Log has the final word.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel != LogLevel.None
            && (logLevel == LogLevel.Information ? SyslogPriority.NoticeLevel : SyslogPriority.Of(logLevel, default)) <= threshold;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            int priority = SyslogPriority.Of(logLevel, eventId);
            if (logLevel == LogLevel.None || priority > threshold)
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
