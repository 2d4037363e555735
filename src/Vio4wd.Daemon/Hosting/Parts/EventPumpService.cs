using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>The dataplane's events into the reconciler, supervised; the queue ending is fatal.</summary>
internal sealed class EventPumpService(RelayController controller, DaemonParts parts, DaemonExit exit, TestHooks.Faults faults, ILogger<EventPumpService> logger)
    : SupervisedService("events", "core", parts, exit, logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        faults.OnRun(Name);
        Parts.Report(Name, PartState.Running);
        await controller.PumpEventsAsync(stoppingToken).ConfigureAwait(false);
    }
}
