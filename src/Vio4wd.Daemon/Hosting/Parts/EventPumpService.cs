using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>The dataplane's events into the reconciler, supervised; the queue ending is fatal.</summary>
internal sealed class EventPumpService(DaemonRuntime runtime, TestHooks.Faults faults, ILogger<EventPumpService> logger)
    : SupervisedService("events", "core", runtime, logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        faults.OnRun(Name);
        Runtime.Parts.Report(Name, PartState.Running);
        await Runtime.Reconciler.PumpEventsAsync(stoppingToken).ConfigureAwait(false);
    }
}
