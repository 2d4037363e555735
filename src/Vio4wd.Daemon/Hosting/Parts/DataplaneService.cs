using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Api.Metrics;
using Vio4wd.Core.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Posix;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Daemon.Logging;
using Vio4wd.Dataplane;
using Vio4wd.Sources.Netdev;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// Brings the EAL and the workers up (a failure ends the start with its cause and exit 255) and
/// takes them down last: stopping the dataplane removes its server sockets and detaches every
/// device, and the EAL's cleanup removes its runtime folder.
/// </summary>
internal sealed class DataplaneService(DaemonRuntime runtime, DataplaneOptions dataplaneOptions, DaemonMetrics metrics, ILogger<DataplaneService> logger, ILogger<Reconciler> reconcilerLogger) : IHostedService, IAsyncDisposable
{
    private EalSession? _eal;
    private NativeDataplane? _dataplane;
    private Reconciler? _reconciler;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        VirtioForwarderOptions options = runtime.Options;
        IReadOnlyList<string> ealArgs = EalArgumentsBuilder.Build(options, HostInspector.Numa());
        if (EalPreflight.Problem(options, ealArgs) is { } problem)
        {
            throw new StartupException(255, problem);
        }

        // The original's pre-start did this with dpdk-devbind; DPDK probes them once they are vfio-pci's.
        foreach (VfioBinding binding in new VfioBinder(TestHooks.SysfsRoot()).Bind(options.BindVfioPci))
        {
            if (binding.Error is { } error)
            {
                logger.VfioBindFailed(error);
            }
            else
            {
                logger.VfioBound(binding.Pci!, binding.Selector);
            }
        }

        // Before DPDK starts: a directory others can write is a configuration error, not a DPDK one.
        if (OwnedDirectory.Prepare(options.SocketDirectory, dataplaneOptions.SocketUid, dataplaneOptions.SocketGid) is { } unsafeDirectory)
        {
            throw new StartupException(1, $"socket directory: {unsafeDirectory}");
        }

        try
        {
            _eal = await EalSession.StartAsync(ealArgs, VirtioForwarder.Name).ConfigureAwait(false);
        }
        catch (DataplaneException e)
        {
            throw new StartupException(255, $"{e.Message} (EAL arguments: {string.Join(' ', ealArgs)})");
        }

        logger.DpdkVersion(DpdkBuild.Summary);
        logger.MaxRelays(dataplaneOptions.MaxRelays ?? DpdkBuild.MaxRelays, DpdkBuild.MaxRelays);
        try
        {
            _dataplane = await NativeDataplane.StartAsync(_eal, dataplaneOptions).ConfigureAwait(false);
        }
        catch (DataplaneException e)
        {
            throw new StartupException(255, e.Message);
        }

        string workers = string.Join(',', _dataplane.WorkerCpus);
        logger.Workers(workers, _eal.MainLcore);
        (int moved, IReadOnlyList<int> cpus) = ThreadPlacement.KeepOff([.. _dataplane.WorkerCpus]);
        string others = string.Join(',', cpus);
        if (moved > 0)
        {
            logger.ThreadsKeptOff(moved, workers, others);
        }

        _reconciler = new Reconciler(_dataplane, runtime.Desired, runtime.Statuses)
        {
            Plugs = runtime.Plugs,
            EventRecorded = (relay, e) =>
                reconcilerLogger.RelayEvent(e.Type == "Warning" ? LogLevel.Warning : LogLevel.Information, relay, e.Reason, e.Message),
            DataplaneEventSeen = e =>
            {
                if (DataplaneEventText.Describe(e) is { } line)
                {
                    reconcilerLogger.DataplaneEvent(DataplaneEventText.IsWarning(e) ? LogLevel.Warning : LogLevel.Information, line);
                }
            },
            UnexpectedFailure = (relay, e) => reconcilerLogger.ReconcileDefect(relay, e.Message, e),
            ResyncFailed = e => reconcilerLogger.ResyncFailed(e.Message),
            PassCompleted = (duration, _) => metrics.ObservePass(duration),
        };
        runtime.Plugs.Completed += OnPlugCompleted;
        runtime.Plugs.RowCompleted += OnRowCompleted;
        runtime.Started(_dataplane, _reconciler);
    }

    private void OnPlugCompleted(int relay, PlugTrace trace)
    {
        metrics.ObservePlug(trace.Kind ?? "change", trace.DoneMs ?? 0);
        if (reconcilerLogger.IsEnabled(LogLevel.Debug))
        {
            reconcilerLogger.PlugTraced(relay, trace.Kind ?? "change", trace.Source, "applied", trace.DoneMs ?? 0, PlugTraceText.Steps(trace));
        }
    }

    private void OnRowCompleted(int relay, PlugTrace trace)
    {
        metrics.ObservePlug("row", trace.RowMs ?? 0);
        if (reconcilerLogger.IsEnabled(LogLevel.Debug))
        {
            reconcilerLogger.PlugTraced(relay, trace.Kind ?? "plug", trace.Source, "row acknowledged", trace.RowMs ?? 0, PlugTraceText.Steps(trace));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.Plugs.Completed -= OnPlugCompleted;
        runtime.Plugs.RowCompleted -= OnRowCompleted;
        runtime.Stopped();
        _reconciler?.Dispose();
        _reconciler = null;
        if (_dataplane is { } dataplane)
        {
            _dataplane = null;
            await dataplane.DisposeAsync().ConfigureAwait(false);
        }

        if (_eal is { } eal)
        {
            _eal = null;
            await eal.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
