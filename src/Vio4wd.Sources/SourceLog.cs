using Microsoft.Extensions.Logging;

namespace Vio4wd.Sources;

/// <summary>The sources' log messages (source-generated, so disabled levels cost nothing).</summary>
internal static partial class SourceLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB: {Problem}")]
    public static partial void OvsdbRowRefused(this ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB: could not record relay states in the Interface rows: {Error}")]
    public static partial void OvsdbWriteBackFailed(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "File monitor: watching {Path} for add_port/del_port commands")]
    public static partial void FileMonitorWatching(this ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "File monitor: {Path}: refused: {Problem}")]
    public static partial void FileCommandRefused(this ILogger logger, string path, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "File monitor: {Path}: {Command}")]
    public static partial void FileCommandApplied(this ILogger logger, string path, string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rejected}")]
    public static partial void ConfigRejected(this ILogger logger, string rejected);

    [LoggerMessage(Level = LogLevel.Error, Message = "SIGHUP: configuration not reloaded: {Error}")]
    public static partial void ReloadRefused(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, EventId = 5, EventName = "Notice", Message = "Configuration reloaded: {Changes}")]
    public static partial void Reloaded(this ILogger logger, string changes);
}
