using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Posix;
using Vio4wd.Daemon.Logging;
using Vio4wd.Dataplane;
using Vio4wd.Sources.Netdev;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// Brings the EAL and the workers up (a failure ends the start with its cause and exit 255) and
/// takes them down last: stopping the dataplane removes its server sockets and detaches every
/// device, and the EAL's cleanup removes its runtime folder.
/// </summary>
internal sealed class DataplaneService(VirtioForwarderOptions options, DataplaneOptions dataplaneOptions, DataplaneHandle handle, ILogger<DataplaneService> logger) : IHostedService, IAsyncDisposable
{
    private EalSession? _eal;
    private NativeDataplane? _dataplane;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
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

        // Port control's other socket directories belong to others (Open vSwitch's run directory):
        // made like the socket directory when missing, else only checked, never changed.
        foreach (string directory in options.VhostSocketDirectories)
        {
            string? unusable = Directory.Exists(directory) || new FileInfo(directory).LinkTarget is not null
                ? OwnedDirectory.Check(directory, dataplaneOptions.SocketUid)
                : OwnedDirectory.Prepare(directory, dataplaneOptions.SocketUid, dataplaneOptions.SocketGid);
            if (unusable is not null)
            {
                throw new StartupException(1, $"VIRTIOFWD_VHOST_SOCKET_DIRS: {unusable}");
            }
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

        handle.Set(_dataplane);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        handle.Set(null);
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
