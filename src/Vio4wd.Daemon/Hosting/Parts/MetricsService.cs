using Vio4wd.Configuration;
using Microsoft.Extensions.Logging;
using Vio4wd.Api.Metrics;
using Vio4wd.Core.Health;
using Vio4wd.Core.Model;
using Vio4wd.Daemon.Logging;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// The metrics and health listener (VIRTIOFWD_METRICS_ADDRESS), supervised: an address already
/// in use faults this part only (it retries with backoff and /readyz says so through the
/// control socket), never the relays.
/// </summary>
internal sealed class MetricsService(ListenAddress address, DaemonMetrics metrics, DaemonHealth health, DaemonParts parts, DaemonExit exit, ILogger<MetricsService> logger)
    : SupervisedService("metrics", "service", parts, exit, logger)
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        await using MetricsServer server = await MetricsServer.StartAsync(address, metrics, health, stoppingToken).ConfigureAwait(false);
        string url = $"http://{address}";
        Logger.MetricsListening(url);
        Parts.Report(Name, PartState.Serving, url);
        await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
