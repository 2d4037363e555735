using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>The controller's worklist and periodic resync, supervised (the part keeps the name operators know: "reconciler").</summary>
internal sealed class ReconcilerService(RelayController controller, DaemonParts parts, DaemonExit exit, ILogger<ReconcilerService> logger)
    : SupervisedService("reconciler", "core", parts, exit, logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        Parts.Report(Name, PartState.Running);
        // After a restart, every relay gets a look: the fault may have cut a pass short.
        await controller.ResyncAsync(stoppingToken).ConfigureAwait(false);
        await controller.ProcessAsync(stoppingToken).ConfigureAwait(false);
    }
}
