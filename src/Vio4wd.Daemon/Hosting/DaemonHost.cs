using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Vio4wd.Api.Metrics;
using Vio4wd.Api.Zmq;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.ControlApi;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Model;
using Vio4wd.Core.Sources;
using Vio4wd.Daemon.Hosting.Parts;
using Vio4wd.Daemon.Logging;
using Vio4wd.Dataplane;
using Vio4wd.Logging;
using Vio4wd.Ovsdb;
using Vio4wd.Sources.Config;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Ovsdb;
using Vio4wd.Sources.Zmq;
using Vio4wd.Zmq;
using Vio4wd.Core.Relays;
using Vio4wd.Core.State;

namespace Vio4wd.Daemon.Hosting;

/// <summary>
/// The composition root: the original's logging (syslog with its identity and 0-7 levels, or
/// the console with <c>--nodaemon</c>), systemd integration (READY=1 once forwarding, STOPPING=1
/// on SIGTERM), and every long-running part as a hosted service, started in order (control
/// socket, dataplane, event pump, reconciler, sources, ZMQ services, readiness) and stopped in
/// reverse. Every configured source runs; the desired-state store merges them.
/// </summary>
internal static class DaemonHost
{
    // Linux's numbers; PosixSignal names only the portable signals, and takes raw numbers too.
    private const PosixSignal SigUsr1 = (PosixSignal)10;
    private const PosixSignal SigUsr2 = (PosixSignal)12;

    /// <summary>Within systemd's TimeoutStopSec (30 s) in the unit.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(25);

    private static readonly ControllerOptions Controller = new();

    public static async Task<int> RunAsync(LoadedConfiguration loaded, Func<LoadedConfiguration> reload)
    {
        VirtioForwarderOptions options = loaded.Options!;
        var logThreshold = new LogThreshold(options.LogLevel);
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        // The host's own lines ("Application started", a failed start's stack trace) are not the operator's.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Logging.AddProvider(new OriginalLoggerProvider(SinkFor(options), logThreshold));
        if (UnderServiceManager())
        {
            builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            builder.Services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = ShutdownTimeout;
            // Parts supervise themselves; one that still ends must not take the others down.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
        });

        try
        {
            Compose(builder.Services, loaded, reload, logThreshold);
        }
        catch (StartupException e)
        {
            using ServiceProvider early = builder.Services.BuildServiceProvider();
            return await FailedAsync(early.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaemonHost)), e).ConfigureAwait(false);
        }

        IHost host = builder.Build();
        // Asynchronously: some parts (the dataplane) only have an asynchronous dispose.
        await using var disposeHost = (IAsyncDisposable)host;
        ILogger logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaemonHost));
        using PidFile? pidFile = PidFile.Acquire(options.PidFile, out string? pidError);
        if (pidFile is null)
        {
            return await FailedAsync(logger, new StartupException(1, pidError!)).ConfigureAwait(false);
        }

        StaticConfigSource staticSource = host.Services.GetRequiredService<StaticConfigSource>();
        using PosixSignalRegistration hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            staticSource.RequestReload();
        });
        // Their default action ends the process without cleanup; nothing here uses them.
        using PosixSignalRegistration usr1 = PosixSignalRegistration.Create(SigUsr1, context => Ignored(context, "SIGUSR1"));
        using PosixSignalRegistration usr2 = PosixSignalRegistration.Create(SigUsr2, context => Ignored(context, "SIGUSR2"));
        void Ignored(PosixSignalContext context, string name)
        {
            context.Cancel = true;
            logger.SignalIgnored(name);
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration stopping = lifetime.ApplicationStopping.Register(() => logger.LogNotice($"Stopping {VirtioForwarder.Name}"));
        DaemonExit exit = host.Services.GetRequiredService<DaemonExit>();
        try
        {
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or StartupException)
        {
            // Undo what had started (sockets, the dataplane, the EAL's runtime folder).
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            // SIGTERM or SIGINT while starting is a clean stop; a part's failure keeps its code.
            return e is StartupException failure ? await FailedAsync(logger, failure).ConfigureAwait(false) : exit.Code;
        }

        await host.WaitForShutdownAsync().ConfigureAwait(false);
        return exit.Code;
    }

    private static async Task<int> FailedAsync(ILogger logger, StartupException e)
    {
        logger.StartFailed(e.Message);
        await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {e.Message}").ConfigureAwait(false);
        return e.ExitCode;
    }

    // Everything the configuration asks for, in start order. Throws StartupException for
    // accounts or key files that do not exist, before anything starts.
    private static void Compose(IServiceCollection services, LoadedConfiguration loaded, Func<LoadedConfiguration> reload, LogThreshold logThreshold)
    {
        VirtioForwarderOptions options = loaded.Options!;
        (int? controlUid, int? controlGid) = Account(options.ControlOwner, options.ControlGroup, "control ");
        var controlPermissions = new SocketPermissions(controlUid, controlGid);
        (int? socketUid, int? socketGid) = Account(options.SocketOwner, options.SocketGroup, string.Empty);
        ZmqSecurity security = ZmqSecurityOf(options);
        VhostMode mode = options.VhostClientMode ? VhostMode.Client : VhostMode.Server;
        VhostSocketSpec SocketOf(int id) => new(options.SocketPathOf(id), mode);
        NetdevResolver resolver = TestHooks.NetdevResolver() ?? new NetdevResolver();
        Func<Contracts.PciAddress, string> deviceOf = TestHooks.PciAliases() ?? (pci => pci.ToString());
        // ipc:// sockets get the control socket's owner, group and mode.
        ZmqBinding Binding(string endpoint) => new(new ZmqEndpoint(endpoint), security, controlPermissions.Apply);
        // A configuration error, not a fault to retry: refused before anything starts.
        foreach ((string name, string? endpoint) in new[] { ("port control", options.ZmqPortControlEndpoint), ("config", options.ZmqConfigEndpoint),
            ("stats", options.ZmqStatsEndpoint), ("core scheduler", options.ZmqCoreSchedEndpoint) })
        {
            if (endpoint is not null && security.Refusal(new ZmqEndpoint(endpoint)) is { } refusal)
            {
                throw new StartupException(1, $"ZMQ {name} service: {refusal}");
            }
        }

        ILogger LoggerOf(IServiceProvider sp, string category) => sp.GetRequiredService<ILoggerFactory>().CreateLogger(category);

        services.AddSingleton(options);
        services.AddSingleton(new DataplaneOptions(options.Jumbo, options.MergeableBuffers, options.Tso, socketUid, socketGid, IdleSleepMaxUs: options.IdleSleepMaxUs, MaxRelays: options.MaxRelays));
        services.AddSingleton<DaemonExit>();
        services.AddSingleton(TestHooks.Faults.FromEnvironment());

        // The state the parts share, and the controller that turns the desired state into live relays.
        services.AddSingleton<DesiredStateStore>();
        services.AddSingleton<RelayStatusStore>();
        services.AddSingleton<RejectedRequests>();
        services.AddSingleton<DaemonParts>();
        services.AddSingleton<PlugTracer>();
        services.AddSingleton<PassResults>();
        services.AddSingleton<RestoredClaims>();
        services.AddSingleton<DataplaneHandle>();
        services.AddSingleton(sp => new ReconcileReporter(sp.GetRequiredService<DaemonMetrics>(), sp.GetRequiredService<PlugTracer>(), LoggerOf(sp, "Vio4wd.Reconciler")));
        services.AddSingleton(sp => new RelayController(sp.GetRequiredService<DataplaneHandle>(), sp.GetRequiredService<DesiredStateStore>(),
            sp.GetRequiredService<RelayStatusStore>(), sp.GetRequiredService<PassResults>(),
            [sp.GetRequiredService<PlugTracer>(), sp.GetRequiredService<ReconcileReporter>()], Controller));
        // Null until the dataplane is up: there is nothing to reconcile before.
        Func<RelayController?> ControllerOf(IServiceProvider sp) =>
            () => sp.GetRequiredService<DataplaneHandle>().Current is null ? null : sp.GetRequiredService<RelayController>();

        services.AddSingleton(sp => TestHooks.IfEnabled(() => sp.GetRequiredService<DataplaneHandle>().Current)!);
        services.AddSingleton(sp => new DaemonHealth(sp.GetRequiredService<DaemonParts>(), () => sp.GetRequiredService<ReadinessGate>().Ready, ControllerOf(sp), Controller.ResyncPeriod));
        services.AddSingleton(sp =>
        {
            DataplaneHandle dataplane = sp.GetRequiredService<DataplaneHandle>();
            return new DaemonMetrics(new MetricsInputs(() => dataplane.Current, sp.GetRequiredService<RelayStatusStore>(), sp.GetRequiredService<DaemonParts>(),
                () => sp.GetRequiredService<ReadinessGate>().Ready, ControllerOf(sp), VirtioForwarder.Version(), DpdkBuild.Version));
        });
        services.AddSingleton<IControlApi>(sp =>
        {
            DataplaneHandle dataplane = sp.GetRequiredService<DataplaneHandle>();
            StaticConfigSource config = sp.GetRequiredService<StaticConfigSource>();
            var controls = new OperatorControls(
                sp.GetRequiredService<DaemonHealth>(),
                () => (config.Current.Options!.ConfigFile, EffectiveSettingsFormatter.Format(config.Current.Options!, config.Current.Raw)),
                () => logThreshold.Level,
                level =>
                {
                    logThreshold.Level = level;
                    dataplane.Current?.SetLogLevel(level);
                },
                config.ReloadAsync);
            return new ControlApiService(sp.GetRequiredService<RelayStatusStore>(), sp.GetRequiredService<DesiredStateStore>(), sp.GetRequiredService<RejectedRequests>(),
                sp.GetRequiredService<DaemonParts>(), () => dataplane.Current, () => sp.GetRequiredService<ReadinessGate>().Ready,
                $"{VirtioForwarder.Version()} ({DpdkBuild.Version})", controls, sp.GetRequiredService<PassResults>(), plugs: sp.GetRequiredService<PlugTracer>());
        });

        // Start order (stop is the reverse). Registered as IHostedService one by one: the
        // AddHostedService(factory) overloads keep only one service per implementation type.
        services.AddSingleton<IHostedService, StartBanner>();
        services.AddSingleton<IHostedService>(sp => new ControlSocketService(options.ControlSocket, controlPermissions, sp.GetRequiredService<IControlApi>(),
            sp.GetRequiredService<DaemonParts>(), sp.GetRequiredService<DaemonExit>(), sp.GetService<TestHooks>(), sp.GetRequiredService<ILogger<ControlSocketService>>()));
        if (options.MetricsAddress is { } metricsAddress)
        {
            services.AddSingleton<IHostedService>(sp => new MetricsService(metricsAddress, sp.GetRequiredService<DaemonMetrics>(), sp.GetRequiredService<DaemonHealth>(),
                sp.GetRequiredService<DaemonParts>(), sp.GetRequiredService<DaemonExit>(), sp.GetRequiredService<ILogger<MetricsService>>()));
        }

        // Before any source publishes: the claims only the daemon remembers, and who was first.
        // Runtime sources have their sockets where port control's ADD_SOCK may put them (the name template's are in the first).
        string[] socketDirectories = [.. options.SocketDirectories.Select(Path.TrimEndingDirectorySeparator)];
        var stateRules = new StateFileRules(options.MaxRelays, options.AllowRuntimeDevargs,
            path => socketDirectories.Contains(Path.GetDirectoryName(Path.GetFullPath(path))));
        services.AddSingleton<IHostedService>(sp => new StateKeeperService(options.StateDirectory, stateRules, sp.GetRequiredService<DesiredStateStore>(),
            sp.GetRequiredService<RestoredClaims>(), sp.GetRequiredService<ILogger<StateKeeperService>>()));
        services.AddSingleton<IHostedService, DataplaneService>();
        services.AddSingleton<IHostedService, EventPumpService>();
        services.AddSingleton<IHostedService, ReconcilerService>();

        // Every configured source runs; the store merges them and decides collisions by claim time.
        services.AddSingleton(sp => new StaticConfigSource(loaded, reload, LoggerOf(sp, "static")));
        var sources = new List<Func<IServiceProvider, IRelaySource>> { sp => sp.GetRequiredService<StaticConfigSource>() };
        var provider = new OvsdbRelayProvider(resolver, options.MaxRelays, SocketOf, _ => null, options.AllowRuntimeDevargs);
        IReadOnlyList<OvsdbEndpoint> ovsdb = [.. options.OvsdbRemotes.Select(OvsdbEndpoint.Parse)];
        sources.Add(sp => new OvsdbSource(ovsdb, provider, LoggerOf(sp, "ovsdb")));
        if (options.ZmqPortControlEndpoint is { } portControl)
        {
            sources.Add(sp => new PortControlSource(Binding(portControl), mode, options.SocketDirectories, LoggerOf(sp, "zmq"), deviceOf));
        }

        if (options.IpcPortControl)
        {
            sources.Add(sp => new FileMonitorSource(options.IpcCommandFile, resolver, deviceOf, SocketOf, LoggerOf(sp, "file")));
        }

        foreach ((Func<IServiceProvider, IRelaySource> source, int index) in sources.Select((s, i) => (s, i)))
        {
            services.AddSingleton(sp =>
            {
                IRelaySource relaySource = source(sp);
                TestHooks.Faults faults = sp.GetRequiredService<TestHooks.Faults>();
                var context = new SourceContext(relaySource.Name, options.MaxRelays, sp.GetRequiredService<DesiredStateStore>(), sp.GetRequiredService<RelayStatusStore>(),
                    sp.GetRequiredService<RejectedRequests>(), sp.GetRequiredService<DaemonParts>(), publish => faults.OnPublish(relaySource.Name, publish),
                    sp.GetRequiredService<PlugTracer>(), sp.GetRequiredService<PassResults>(), sp.GetRequiredService<RestoredClaims>());
                return new SourceService(relaySource, context, sp.GetRequiredService<DaemonParts>(), sp.GetRequiredService<DaemonExit>(), faults, sp.GetRequiredService<ILogger<SourceService>>());
            });
            services.AddSingleton<IHostedService>(sp => sp.GetServices<SourceService>().ElementAt(index));
        }

        // The original's other ZMQ services, each on its endpoint when configured.
        // Their handlers are made when the service runs, after the dataplane is up.
        var zmqServices = new List<(string Name, string? Endpoint, int MaxRequest, Func<IServiceProvider, Func<ZmqRequest, Task<byte[]>>> Handler)>
        {
            ("config", options.ZmqConfigEndpoint, ConfigService.MaxRequestBytes, sp => new ConfigService(options.CpuPins, DataplaneOf(sp)).HandleAsync),
            ("stats", options.ZmqStatsEndpoint, StatsService.MaxRequestBytes, sp => new StatsService(DataplaneOf(sp)).HandleAsync),
            ("core scheduler", options.ZmqCoreSchedEndpoint, CoreSchedService.MaxRequestBytes,
                sp => new CoreSchedService(DataplaneOf(sp), sp.GetRequiredService<DesiredStateStore>(), sp.GetRequiredService<PassResults>()).HandleAsync),
        };
        static IDataplane DataplaneOf(IServiceProvider sp) => sp.GetRequiredService<DataplaneHandle>().Required;
        foreach ((string name, string? endpoint, int maxRequest, var handler) in zmqServices)
        {
            if (endpoint is not null)
            {
                services.AddSingleton<IHostedService>(sp => new ZmqApiService(name, Binding(endpoint), maxRequest, () => handler(sp),
                    sp.GetRequiredService<DaemonParts>(), sp.GetRequiredService<DaemonExit>(), sp.GetRequiredService<ILogger<ZmqApiService>>()));
            }
        }

        services.AddSingleton<ReadinessGate>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ReadinessGate>());
    }

    private static (int? Uid, int? Gid) Account(SocketAccount owner, SocketAccount group, string what)
    {
        int? uid = HostInspector.UserId(owner, out string? userError);
        int? gid = HostInspector.GroupId(group, out string? groupError);
        return (userError ?? groupError) is { } error ? throw new StartupException(1, what + error) : (uid, gid);
    }

    private static ZmqSecurity ZmqSecurityOf(VirtioForwarderOptions config)
    {
        if (config.ZmqCurveSecretKeyFile is not { } file)
        {
            return new ZmqSecurity(null, config.ZmqAllowPlainLoopback);
        }

        string secret = ZmqSecurity.ParseKey(ReadKeyFile(file, "VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE"), out string problem)
            ?? throw new StartupException(1, $"VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE {file}: {problem}");
        // CURVE without a list of clients would serve anyone who knows the server's public key.
        string keys = config.ZmqCurveClientKeys
            ?? throw new StartupException(1, "VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE needs VIRTIOFWD_ZMQ_CURVE_CLIENT_KEYS: the public keys of the clients to serve");
        IEnumerable<string> files = Directory.Exists(keys)
            ? Directory.EnumerateFiles(keys).Order(StringComparer.Ordinal)
            : [keys];
        IReadOnlySet<string> clients = ZmqSecurity.ParseClientKeys(files.Select(f => (f, ReadKeyFile(f, "VIRTIOFWD_ZMQ_CURVE_CLIENT_KEYS"))).ToList(), out problem)
            ?? throw new StartupException(1, $"VIRTIOFWD_ZMQ_CURVE_CLIENT_KEYS: {problem}");
        return new ZmqSecurity(secret, config.ZmqAllowPlainLoopback, clients);
    }

    private static string ReadKeyFile(string file, string setting)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException(1, $"{setting} {file}: {e.Message}");
        }
    }

    // As sd_notify(3): whoever set NOTIFY_SOCKET (systemd with Type=notify, or a supervisor
    // that speaks its protocol) hears READY=1 and STOPPING=1. The library's own check wants
    // systemd as the parent process, which a wrapper script or a container entrypoint is not.
    private static bool UnderServiceManager() =>
        SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    private static ILogSink SinkFor(VirtioForwarderOptions options) => options.LogDestination switch
    {
        LogDestination.Console => new ConsoleSink(Console.Out, TimeProvider.System),
        _ => SyslogSink.FromEnvironment(VirtioForwarder.Name, TimeProvider.System),
    };
}
