using Microsoft.Extensions.Logging;

namespace Vio4wd.Daemon.Logging;

/// <summary>The daemon's log messages (source-generated, so disabled levels cost nothing).</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "DPDK version: {Version}")]
    public static partial void DpdkVersion(this ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Maximum relays is {MaxRelays}, increase VIRTIOFWD_MAX_RELAYS (up to {BuildLimit} with this DPDK build) if more are required")]
    public static partial void MaxRelays(this ILogger logger, int maxRelays, int buildLimit);

    [LoggerMessage(Level = LogLevel.Information, Message = "VIRTIOFWD_BIND_VFIO_PCI: {Pci} ({Selector}) is bound to vfio-pci")]
    public static partial void VfioBound(this ILogger logger, string pci, string selector);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Problem}")]
    public static partial void VfioBindFailed(this ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics and health on {Url} (/metrics, /healthz, /readyz)")]
    public static partial void MetricsListening(this ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workers on CPUs {Cpus}, main lcore {MainLcore}")]
    public static partial void Workers(this ILogger logger, string cpus, int mainLcore);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Threads} threads of the daemon moved off the worker CPUs {Workers}, to CPUs {Cpus}")]
    public static partial void ThreadsKeptOff(this ILogger logger, int threads, string workers, string cpus);

    [LoggerMessage(Message = "relay {Relay}: {Reason}: {Message}")]
    public static partial void RelayEvent(this ILogger logger, LogLevel level, int relay, string reason, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "relay {Relay}: {Kind} ({Source}) {Outcome} in {Ms:0.0} ms: {Steps}")]
    public static partial void PlugTraced(this ILogger logger, int relay, string kind, string source, string outcome, double ms, string steps);

    [LoggerMessage(Message = "{Event}")]
    public static partial void DataplaneEvent(this ILogger logger, LogLevel level, string @event);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rejected}")]
    public static partial void ConfigRejected(this ILogger logger, string rejected);

    [LoggerMessage(Level = LogLevel.Error, Message = "SIGHUP: configuration not reloaded: {Error}")]
    public static partial void ReloadRefused(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Error}")]
    public static partial void StartFailed(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "relay {Relay}: reconcile failed unexpectedly: {Error}")]
    public static partial void ReconcileDefect(this ILogger logger, int relay, string error, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "periodic resync could not read the dataplane: {Error}")]
    public static partial void ResyncFailed(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Signal} received; ignored")]
    public static partial void SignalIgnored(this ILogger logger, string signal);
}
