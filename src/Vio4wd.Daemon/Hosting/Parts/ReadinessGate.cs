using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;
using Vio4wd.Logging;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// Started last, so the host reports the daemon ready (systemd READY=1) when it returns: once
/// every source has published what it had at start or found its peer absent (it keeps trying;
/// readiness never waits for a peer), and the reconciler has had its first pass over the
/// configured relays. Stopped first: the daemon is not ready from then on.
/// </summary>
internal sealed class ReadinessGate(DaemonRuntime runtime, IEnumerable<SourceService> sources, ILogger<ReadinessGate> logger) : IHostedService
{
    private static readonly TimeSpan FirstSyncTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A source that faulted before it could say anything does not hold readiness back either.
        while (!sources.All(s => s.Context.Initialized.IsCompleted || runtime.Parts.Get(s.Name)?.State == PartState.Faulted))
        {
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }

        await runtime.Reconciler.WhenSyncedAsync(FirstSyncTimeout, cancellationToken).ConfigureAwait(false);
        runtime.Ready = true;
        logger.LogNotice("Forwarding; waiting for SIGTERM");
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.Ready = false;
        return Task.CompletedTask;
    }
}
