namespace Vio4wd.Daemon.Hosting;

/// <summary>The daemon cannot start; the message says why and the process exits with <see cref="ExitCode"/>.</summary>
internal sealed class StartupException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
