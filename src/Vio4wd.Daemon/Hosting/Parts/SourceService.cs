using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;
using Vio4wd.Core.Sources;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>One source of desired state, supervised; its published slice stays in force while it restarts.</summary>
internal sealed class SourceService(IRelaySource source, SourceContext context, DaemonParts parts, DaemonExit exit, TestHooks.Faults faults, ILogger<SourceService> logger)
    : SupervisedService(source.Name, "source", parts, exit, logger)
{
    public SourceContext Context { get; } = context;

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        faults.OnRun(Name);
        await source.RunAsync(Context, stoppingToken).ConfigureAwait(false);
    }
}
