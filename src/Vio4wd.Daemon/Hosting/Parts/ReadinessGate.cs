using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Logging;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// Started last, so the host reports the daemon ready (systemd READY=1) when it returns: once
/// every source has published what it had at start or found its peer absent (it keeps trying;
/// readiness never waits for a peer) or faulted, and the controller has had its first pass over
/// the configured relays. Stopped first: the daemon is not ready from then on.
/// </summary>
internal sealed class ReadinessGate(RelayController controller, IEnumerable<SourceService> sources, ILogger<ReadinessGate> logger) : IHostedService
{
    private static readonly TimeSpan FirstSyncTimeout = TimeSpan.FromSeconds(30);
    private volatile bool _ready;

    /// <summary>The first pass over the configured relays is done (READY=1 was sent).</summary>
    public bool Ready => _ready;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A source that faulted before it could say anything does not hold readiness back either.
        await Task.WhenAll(sources.Select(s => Task.WhenAny(s.Context.Initialized, s.FirstFault))).WaitAsync(cancellationToken).ConfigureAwait(false);
        await controller.WhenSyncedAsync(FirstSyncTimeout, cancellationToken).ConfigureAwait(false);
        _ready = true;
        logger.LogNotice("Forwarding; waiting for SIGTERM");
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _ready = false;
        return Task.CompletedTask;
    }
}
