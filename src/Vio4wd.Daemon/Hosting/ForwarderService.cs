using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;
using Vio4wd.Core.Configuration;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.ControlApi;
using Vio4wd.Core.Dataplane;
using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Config;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Sources.Ovsdb;
using Vio4wd.Daemon.Logging;
using Vio4wd.Logging;
using Vio4wd.Ovsdb;
using Vio4wd.Zmq;
using Vio4wd.Api.Zmq;
using Vio4wd.Sources.Zmq;
using Vio4wd.Dataplane;
using Vio4wd.Api.Control;

namespace Vio4wd.Daemon.Hosting;

/// <summary>
/// The daemon's life: takes the PID lock, brings the DPDK dataplane up, runs the reconciler
/// over the providers' desired state and serves the control API. The host reports the service
/// ready (systemd READY=1) only once <see cref="StartAsync"/> is done, that is once every
/// configured relay has had its first pass. Stopping removes every relay (server sockets are
/// deleted, devices detached).
/// </summary>
internal sealed class ForwarderService(
    VirtioForwarderOptions options,
    Func<LoadedConfiguration> reload,
    ILogger<ForwarderService> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan FirstSyncTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OvsdbStartWait = TimeSpan.FromSeconds(5);
    private readonly RejectedRequests _rejected = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _running = [];
    private readonly Stack<IAsyncDisposable> _resources = new();
    private DesiredStateStore? _desired;
    private int _maxRelays;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogNotice($"Starting {VirtioForwarder.Name} {VirtioForwarder.Version()}");
        try
        {
            await StartForwardingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (e is OperationCanceledException)
            {
                logger.LogNotice($"Stopping {VirtioForwarder.Name} (stop requested while starting)");
            }

            await ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        logger.LogNotice("Forwarding; waiting for SIGTERM");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogNotice($"Stopping {VirtioForwarder.Name}");
        await ShutdownAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_running).WaitAsync(cancellationToken).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        while (_resources.TryPop(out IAsyncDisposable? resource))
        {
            await resource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task StartForwardingAsync(CancellationToken cancellationToken)
    {
        PidFile pidFile = PidFile.Acquire(options.PidFile, out string? pidError) ?? throw new StartupException(1, pidError!);
        Own(pidFile);
        DataplaneOptions dataplaneOptions = DataplaneOptionsOf(options);
        (int? controlUid, int? controlGid) = ControlAccount(options);

        IReadOnlyList<string> ealArgs = EalArgumentsBuilder.Build(options, HostInspector.Numa());
        EalSession eal;
        try
        {
            eal = await EalSession.StartAsync(ealArgs, VirtioForwarder.Name).ConfigureAwait(false);
        }
        catch (DataplaneException e)
        {
            throw new StartupException(255, $"{e.Message} (EAL arguments: {string.Join(' ', ealArgs)})");
        }

        _resources.Push(eal);
        logger.DpdkVersion(DpdkBuild.Version);
        logger.MaxRelays(DpdkBuild.MaxRelays);

        NativeDataplane dataplane;
        try
        {
            dataplane = await NativeDataplane.StartAsync(eal, dataplaneOptions).ConfigureAwait(false);
        }
        catch (DataplaneException e)
        {
            throw new StartupException(255, e.Message);
        }

        _resources.Push(dataplane);
        string workers = string.Join(',', dataplane.WorkerCpus);
        logger.Workers(workers, eal.MainLcore);
        _maxRelays = dataplane.MaxRelays;

        _desired = new DesiredStateStore();
        var statuses = new RelayStatusStore();
        var reconciler = new Reconciler(dataplane, _desired, statuses)
        {
            EventRecorded = (relay, e) =>
                logger.RelayEvent(e.Type == "Warning" ? LogLevel.Warning : LogLevel.Information, relay, e.Reason, e.Message),
            DataplaneEventSeen = e =>
            {
                LogLevel level = DataplaneEventText.IsWarning(e) ? LogLevel.Warning : LogLevel.Information;
                if (DataplaneEventText.Describe(e) is { } line)
                {
                    logger.DataplaneEvent(level, line);
                }
            },
        };
        Own(reconciler);
        Directory.CreateDirectory(options.SocketDirectory);
        ApplyStaticConfig(options);
        _running.Add(reconciler.RunAsync(_stopping.Token));
        if (options.ZmqPortControlEndpoint is null && options.IpcPortControl)
        {
            _running.Add(FileMonitorOf(options).RunAsync(_stopping.Token));
        }
        else if (PortControlOf(options, statuses) is { } ovsdb)
        {
            _running.Add(ovsdb.RunAsync(_stopping.Token));
            // Ports flagged before the start are relays before READY, unless OVSDB is not there.
            await Task.WhenAny(ovsdb.FirstSnapshot, Task.Delay(OvsdbStartWait, cancellationToken)).ConfigureAwait(false);
        }

        await reconciler.WhenSyncedAsync(FirstSyncTimeout, cancellationToken).ConfigureAwait(false);

        var api = new ControlApiService(statuses, _desired, _rejected, dataplane, $"{VirtioForwarder.Version()} ({DpdkBuild.Version})");
        ControlServer control;
        try
        {
            control = ControlServer.Listen(options.ControlSocket, new SocketPermissions(controlUid, controlGid), api, TestHooks.IfEnabled(dataplane), logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            throw new StartupException(1, $"control socket {options.ControlSocket}: {e.Message}");
        }

        Own(control);
        _running.Add(control.ServeAsync(_stopping.Token));
        StartZmqServices(dataplane, statuses, new SocketPermissions(controlUid, controlGid));
        Own(PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload();
        }));
    }

    // The original's services, each on its endpoint when configured; ipc:// sockets get the
    // control socket's owner and group.
    private void StartZmqServices(IDataplane dataplane, RelayStatusStore statuses, SocketPermissions permissions)
    {
        ZmqSecurity security = ZmqSecurityOf(options);
        var services = new List<(string Name, string? Endpoint, int MaxRequest, Func<ZmqRequest, Task<byte[]>> Handle)>
        {
            ("config", options.ZmqConfigEndpoint, ConfigService.MaxRequestBytes, new ConfigService(options.CpuPins, dataplane).HandleAsync),
            ("stats", options.ZmqStatsEndpoint, StatsService.MaxRequestBytes, new StatsService(dataplane).HandleAsync),
            ("core scheduler", options.ZmqCoreSchedEndpoint, CoreSchedService.MaxRequestBytes, new CoreSchedService(dataplane, _desired!, statuses).HandleAsync),
            ("port control", options.ZmqPortControlEndpoint, PortControlService.MaxRequestBytes,
                new PortControlService(_desired!, statuses, dataplane, options.VhostClientMode ? VhostMode.Client : VhostMode.Server, logger, TestHooks.PciAliases()).HandleAsync),
        };
        foreach ((string name, string? endpoint, int maxRequest, Func<ZmqRequest, Task<byte[]>> handle) in services)
        {
            if (endpoint is null)
            {
                continue;
            }

            try
            {
                // Far above a valid request, so oversized ones reach the service and get its error answer.
                Own(ZmqRepServer.Start(name, new ZmqEndpoint(endpoint), permissions.Apply, security, Math.Max(maxRequest, 1) * 4096L, handle, logger));
            }
            catch (Exception e) when (e is ZmqException or IOException or UnauthorizedAccessException)
            {
                throw new StartupException(1, $"ZMQ {name} service: {e.Message}");
            }
        }
    }

    private static ZmqSecurity ZmqSecurityOf(VirtioForwarderOptions config)
    {
        if (config.ZmqCurveSecretKeyFile is not { } file)
        {
            return new ZmqSecurity(null, config.ZmqAllowPlainLoopback);
        }

        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException(1, $"VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE {file}: {e.Message}");
        }

        return new ZmqSecurity(ZmqSecurity.ParseKey(text, out string problem) ?? throw new StartupException(1, $"VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE {file}: {problem}"),
            config.ZmqAllowPlainLoopback);
    }

    private FileMonitorPortControl FileMonitorOf(VirtioForwarderOptions config)
    {
        VhostMode mode = config.VhostClientMode ? VhostMode.Client : VhostMode.Server;
        return new FileMonitorPortControl(config.IpcCommandFile, TestHooks.NetdevResolver() ?? new NetdevResolver(), TestHooks.PciAliases() ?? (pci => pci.ToString()),
            _maxRelays, id => new VhostSocketSpec(config.SocketPathOf(id), mode), _desired!, logger);
    }

    // The original's choice: ZMQ port control, else the file monitor, else OVSDB.
    private OvsdbPortControl? PortControlOf(VirtioForwarderOptions config, RelayStatusStore statuses)
    {
        if (config.ZmqPortControlEndpoint is not null)
        {
            return null;
        }

        if (config.IpcPortControl)
        {
            return null;
        }

        VhostMode mode = config.VhostClientMode ? VhostMode.Client : VhostMode.Server;
        var provider = new OvsdbRelayProvider(TestHooks.NetdevResolver() ?? new NetdevResolver(), _maxRelays, id => new VhostSocketSpec(config.SocketPathOf(id), mode), _ => null);
        return new OvsdbPortControl(OvsdbEndpoint.Parse(config.OvsdbSocket), provider, _desired!, statuses, _rejected, logger);
    }

    private void ApplyStaticConfig(VirtioForwarderOptions config)
    {
        string[] rejected = [.. StaticConfigProvider.Rejected(config, _maxRelays)];
        foreach (string problem in rejected)
        {
            logger.ConfigRejected(problem);
        }

        _rejected.Replace(StaticConfigProvider.Source, rejected.Select(r => new RejectedRequest(StaticConfigProvider.Source, "configuration", r)));

        _desired!.ReplaceSlice(StaticConfigProvider.Source, StaticConfigProvider.SpecsOf(config, _maxRelays));
    }

    // Relays follow the new file; settings the EAL or the workers were started with (CPUs,
    // memory, jumbo, ...) need a restart. A bad file changes nothing.
    private void Reload()
    {
        LoadedConfiguration loaded = reload();
        if (loaded.Options is null)
        {
            foreach (string error in loaded.Diagnostics.Errors)
            {
                logger.ReloadRefused(error);
            }

            return;
        }

        ApplyStaticConfig(loaded.Options);
        logger.LogNotice("SIGHUP: relays reloaded from the configuration");
    }

    private void Own(IDisposable resource) => _resources.Push(new DisposeAdapter(resource));

    private static DataplaneOptions DataplaneOptionsOf(VirtioForwarderOptions options)
    {
        (int? uid, int? gid) = Accounts(options.SocketOwner, options.SocketGroup, string.Empty);
        return new DataplaneOptions(options.Jumbo, options.MergeableBuffers, options.Tso, uid, gid);
    }

    private static (int? Uid, int? Gid) ControlAccount(VirtioForwarderOptions options) =>
        Accounts(options.ControlOwner, options.ControlGroup, "control ");

    private static (int? Uid, int? Gid) Accounts(SocketAccount owner, SocketAccount group, string what)
    {
        int? uid = HostInspector.UserId(owner, out string? userError);
        int? gid = HostInspector.GroupId(group, out string? groupError);
        return (userError ?? groupError) is { } error ? throw new StartupException(1, what + error) : (uid, gid);
    }

    private sealed class DisposeAdapter(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
