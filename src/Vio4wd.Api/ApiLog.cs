using Microsoft.Extensions.Logging;

namespace Vio4wd.Api;

/// <summary>The served APIs' log messages.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Control API on {Path}")]
    public static partial void ControlListening(this ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Control API client went away: {Reason}")]
    public static partial void ControlClientGone(this ILogger logger, string reason);
}
