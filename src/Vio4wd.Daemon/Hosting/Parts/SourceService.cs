using Microsoft.Extensions.Logging;
using Vio4wd.Core.Sources;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>One source of desired state, supervised; its published slice stays in force while it restarts.</summary>
internal sealed class SourceService(IRelaySource source, DaemonRuntime runtime, TestHooks.Faults faults, ILogger<SourceService> logger)
    : SupervisedService(source.Name, "source", runtime, logger)
{
    public SourceContext Context { get; } = new(source.Name, runtime.MaxRelays, runtime.Desired, runtime.Statuses, runtime.Rejected, runtime.Parts,
        publish => faults.OnPublish(source.Name, publish), runtime.Plugs);

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        faults.OnRun(Name);
        await source.RunAsync(Context, stoppingToken).ConfigureAwait(false);
    }
}
