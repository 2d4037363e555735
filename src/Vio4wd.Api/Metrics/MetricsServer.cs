using Vio4wd.Configuration;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prometheus;
using Vio4wd.Core.Health;
using Vio4wd.Core.Model;

namespace Vio4wd.Api.Metrics;

/// <summary>
/// The opt-in HTTP listener: <c>/metrics</c> (Prometheus text format), <c>/healthz</c> (alive)
/// and <c>/readyz</c> (ready), each answering 200 or 503 with one line per check as Kubernetes'
/// own components do. Read-only, no other path; it listens only where the operator said.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsServer(WebApplication app) => _app = app;

    public static async Task<MetricsServer> StartAsync(ListenAddress address, DaemonMetrics metrics, DaemonHealth health, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(health);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Kestrel's own lines are not the operator's; a failure to bind surfaces as an exception.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address.Address, address.Port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.MaxConcurrentConnections = 64;
        });
        WebApplication app = builder.Build();
        app.MapMetrics(settings => settings.Registry = metrics.Registry, "/metrics");
        app.MapGet("/healthz", () => Answer(health.Liveness(), "healthz"));
        app.MapGet("/livez", () => Answer(health.Liveness(), "livez"));
        app.MapGet("/readyz", () => Answer(health.Readiness(), "readyz"));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new MetricsServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static IResult Answer(HealthReport report, string what) =>
        Results.Text(report.Text(what), "text/plain; charset=utf-8", statusCode: report.Ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
}
