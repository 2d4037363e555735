using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>The reconciler's worklist and periodic resync, supervised.</summary>
internal sealed class ReconcilerService(DaemonRuntime runtime, ILogger<ReconcilerService> logger)
    : SupervisedService("reconciler", "core", runtime, logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        Runtime.Parts.Report(Name, PartState.Running);
        // After a restart, every relay gets a look: the fault may have cut a pass short.
        await Runtime.Reconciler.ResyncAsync(stoppingToken).ConfigureAwait(false);
        await Runtime.Reconciler.ProcessAsync(stoppingToken).ConfigureAwait(false);
    }
}
