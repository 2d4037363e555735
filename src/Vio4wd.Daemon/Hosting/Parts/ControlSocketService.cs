using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vio4wd.Api.Control;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Health;
using Vio4wd.Core.Model;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// The control API's unix socket. It listens first, before DPDK starts, so <c>vio4wdctl</c>
/// answers as soon as the configuration is parsed; a socket that cannot be made at start ends
/// the start (exit 1), a fault later is restarted like any part.
/// </summary>
internal sealed class ControlSocketService(string path, SocketPermissions permissions, IControlApi api, DaemonParts parts, DaemonExit exit, TestHooks? hooks, ILogger<ControlSocketService> logger)
    : SupervisedService("control socket", "service", parts, exit, logger)
{
    private ControlServer? _server;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _server = Listen();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            throw new StartupException(1, $"control socket {path}: {e.Message}");
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _server?.Dispose();
        _server = null;
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        _server ??= Listen();
        Parts.Report(Name, PartState.Serving, path);
        try
        {
            await _server.ServeAsync(stoppingToken).ConfigureAwait(false);
        }
        catch
        {
            _server.Dispose();
            _server = null;
            throw;
        }
    }

    private ControlServer Listen() => ControlServer.Listen(path, permissions, api, hooks, Logger);
}
