using Microsoft.Extensions.Logging;
using Vio4wd.Core.Health;
using Vio4wd.Zmq;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>One of the original's ZMQ services (config, stats, core scheduler) on its endpoint, supervised.</summary>
internal sealed class ZmqApiService(
    string name,
    ZmqBinding binding,
    int maxRequestBytes,
    Func<Func<ZmqRequest, Task<byte[]>>> handlerOf,
    DaemonParts parts,
    DaemonExit exit,
    ILogger<ZmqApiService> logger)
    : SupervisedService($"zmq {name}", "service", parts, exit, logger)
{
    private readonly string _service = name;

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        // Far above a valid request, so oversized ones reach the service and get its error answer.
        using ZmqRepServer server = ZmqRepServer.Start(_service, binding, Math.Max(maxRequestBytes, 1) * 4096L, handlerOf(), Logger);
        Parts.Report(Name, PartState.Serving, binding.Endpoint.Text);
        await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
