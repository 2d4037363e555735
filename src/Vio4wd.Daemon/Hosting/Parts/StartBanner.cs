using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Logging;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// The first part started: says the daemon is starting once the host's lifetime listens for
/// SIGTERM, so a stop asked for from then on is a clean one.
/// </summary>
internal sealed class StartBanner(ILogger<StartBanner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogNotice($"Starting {VirtioForwarder.Name} {VirtioForwarder.Version()}");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
