using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Vio4wd.Core.Configuration;
using Vio4wd.Daemon.Logging;
using Vio4wd.Logging;

namespace Vio4wd.Daemon.Hosting;

/// <summary>
/// The generic host around <see cref="ForwarderService"/>: the original's logging (syslog with
/// its identity and 0-7 levels, or the console with <c>--nodaemon</c>), systemd integration
/// (READY=1 once forwarding, STOPPING=1 on SIGTERM) and SIGTERM/SIGINT handling.
/// </summary>
internal static class DaemonHost
{
    /// <summary>Within systemd's TimeoutStopSec (30 s) in the unit.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(25);

    public static async Task<int> RunAsync(VirtioForwarderOptions options, Func<LoadedConfiguration> reload)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        // The host's own lines ("Application started", a failed start's stack trace) are not the operator's.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Logging.AddProvider(new OriginalLoggerProvider(SinkFor(options), options.LogLevel));
        if (UnderServiceManager())
        {
            builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            builder.Services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(reload);
        builder.Services.AddHostedService<ForwarderService>();

        using IHost host = builder.Build();
        ILogger logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaemonHost));
        try
        {
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            // SIGTERM or SIGINT while starting: the service has undone what it had started.
            return 0;
        }
        catch (StartupException e)
        {
            logger.StartFailed(e.Message);
            await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
    }

    // As sd_notify(3): whoever set NOTIFY_SOCKET (systemd with Type=notify, or a supervisor
    // that speaks its protocol) hears READY=1 and STOPPING=1. The library's own check wants
    // systemd as the parent process, which a wrapper script or a container entrypoint is not.
    private static bool UnderServiceManager() =>
        SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    private static ILogSink SinkFor(VirtioForwarderOptions options) => options.LogDestination switch
    {
        LogDestination.Console => new ConsoleSink(Console.Out, TimeProvider.System),
        _ => SyslogSink.FromEnvironment(VirtioForwarder.Name, TimeProvider.System),
    };
}
