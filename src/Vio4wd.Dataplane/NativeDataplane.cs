using Vio4wd.Contracts;
using System.Threading.Channels;
using Vio4wd.Core.Dataplane;
using Vio4wd.Dataplane.Native;

namespace Vio4wd.Dataplane;

/// <summary>
/// <see cref="IDataplane"/> over libvio4wd. Control calls run on the EAL's control thread;
/// events are pumped from the native queue by a thread of their own.
/// </summary>
public sealed class NativeDataplane : IDataplane
{
    private const int EventPollMilliseconds = 200;

    private readonly EalSession _eal;
    private readonly Channel<DataplaneEvent> _events = Channel.CreateUnbounded<DataplaneEvent>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly Thread _eventPump;
    private volatile bool _stopping;
    private bool _disposed;

    private NativeDataplane(EalSession eal, IReadOnlyList<int> workerCpus, int maxRelays)
    {
        _eal = eal;
        WorkerCpus = workerCpus;
        MaxRelays = maxRelays;
        _eventPump = new Thread(PumpEvents) { IsBackground = true, Name = "dataplane-events" };
        _eventPump.Start();
    }

    public int MaxRelays { get; }

    public IReadOnlyList<int> WorkerCpus { get; }

    public ChannelReader<DataplaneEvent> Events => _events.Reader;

    /// <summary>Starts the workers on the EAL's worker lcores.</summary>
    public static async Task<NativeDataplane> StartAsync(EalSession eal, DataplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(eal);
        ArgumentNullException.ThrowIfNull(options);
        var native = new NativeOptions
        {
            Flags = (options.Jumbo ? NativeMethods.OptJumbo : 0)
                | (options.MergeableBuffers ? NativeMethods.OptMergeableBuffers : 0)
                | (options.Tso ? NativeMethods.OptTso : 0),
            SocketUid = options.SocketUid ?? -1,
            SocketGid = options.SocketGid ?? -1,
            MbufsPerRelay = (uint)(options.MbufsPerRelay ?? 0),
            IdleSleepMaxUs = (uint)options.IdleSleepMaxUs,
            MaxRelays = (uint)(options.MaxRelays ?? 0),
        };
        IReadOnlyList<int> workers = await eal.InvokeAsync(() =>
        {
            NativeResult.Check(NativeMethods.DataplaneStart(in native), "starting the dataplane");
            int count = NativeResult.Check(NativeMethods.WorkerCount(), "counting workers");
            var cpus = new int[count];
            for (int i = 0; i < count; i++)
            {
                NativeResult.Check(NativeMethods.WorkerGet((uint)i, out NativeWorkerInfo info), "reading a worker");
                cpus[i] = (int)info.Lcore;
            }

            return cpus;
        }).ConfigureAwait(false);
        return new NativeDataplane(eal, workers, options.MaxRelays ?? DpdkBuild.MaxRelays);
    }

    public Task AttachDeviceAsync(int relay, DeviceAttachment device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        string[] devices = [.. device.Devices];
        int mode = device.BondMode is { } m ? (int)m : -1;
        return CallAsync(relay, $"attaching {device} to relay {relay}",
            () => NativeMethods.RelayAttach((uint)relay, devices, (uint)devices.Length, mode), cancellationToken);
    }

    public Task DetachDeviceAsync(int relay, CancellationToken cancellationToken = default) =>
        CallAsync(relay, $"detaching the device of relay {relay}", () => NativeMethods.RelayDetach((uint)relay), cancellationToken);

    /// <summary>For tests: the relay's port reports its removal, as a hot-unplugged VF's PMD does.</summary>
    public Task SimulateDeviceRemovalAsync(int relay) =>
        CallAsync(relay, $"reporting the removal of relay {relay}'s device", () => NativeMethods.TestDeviceRemoved((uint)relay), CancellationToken.None);

    public Task RegisterSocketAsync(int relay, string path, VhostMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int client = mode == VhostMode.Client ? 1 : 0;
        return CallAsync(relay, $"registering socket {path} for relay {relay}",
            () => NativeMethods.RelayRegisterSocket((uint)relay, path, client), cancellationToken);
    }

    public Task UnregisterSocketAsync(int relay, CancellationToken cancellationToken = default) =>
        CallAsync(relay, $"unregistering the socket of relay {relay}", () => NativeMethods.RelayUnregisterSocket((uint)relay), cancellationToken);

    public Task SetCpusAsync(int relay, int? vfToVmCpu, int? vmToVfCpu, CancellationToken cancellationToken = default) =>
        CallAsync(relay, $"moving relay {relay} to CPUs {vfToVmCpu?.ToString() ?? "auto"},{vmToVfCpu?.ToString() ?? "auto"}",
            () => NativeMethods.RelaySetCpus((uint)relay, vfToVmCpu ?? -1, vmToVfCpu ?? -1), cancellationToken);

    public async Task<RelayState> GetRelayAsync(int relay, CancellationToken cancellationToken = default)
    {
        CheckRelayId(relay);
        cancellationToken.ThrowIfCancellationRequested();
        return await _eal.InvokeAsync(() => ReadRelay(relay)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RelayState>> ListRelaysAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _eal.InvokeAsync(ReadRelays).ConfigureAwait(false);
    }

    public async Task<DataplaneSnapshot> SnapshotAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _eal.InvokeAsync(() => new DataplaneSnapshot(ReadRelays(), ReadWorkers())).ConfigureAwait(false);
    }

    // DPDK's levels are syslog's plus one (RTE_LOG_EMERG is 1), as the EAL's --log-level at start.
    public void SetLogLevel(int level) => NativeMethods.SetLogLevel((uint)Math.Clamp(level, 0, 7) + 1);

    public async Task<IReadOnlyList<WorkerLoad>> GetWorkerLoadsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _eal.InvokeAsync(ReadWorkers).ConfigureAwait(false);
    }

    private IReadOnlyList<RelayState> ReadRelays()
    {
        var relays = new List<RelayState>();
        for (int id = 0; id < MaxRelays; id++)
        {
            RelayState state = ReadRelay(id);
            if (!state.IsEmpty)
            {
                relays.Add(state);
            }
        }

        return relays;
    }

    private IReadOnlyList<WorkerLoad> ReadWorkers()
    {
        var loads = new WorkerLoad[WorkerCpus.Count];
        for (int i = 0; i < loads.Length; i++)
        {
            NativeResult.Check(NativeMethods.WorkerGet((uint)i, out NativeWorkerInfo w), "reading worker load");
            loads[i] = new WorkerLoad((int)w.Lcore, w.Numa, (int)w.Directions, w.BusyCycles, w.IdleCycles, w.Polls, w.Packets, w.Hz);
        }

        return loads;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await _eal.InvokeAsync(() => NativeResult.Check(NativeMethods.DataplaneStop(), "stopping the dataplane")).ConfigureAwait(false);
        }
        finally
        {
            _stopping = true;
            _eventPump.Join();
            _events.Writer.TryComplete();
        }
    }

    private async Task CallAsync(int relay, string operation, Func<int> call, CancellationToken cancellationToken)
    {
        CheckRelayId(relay);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _eal.InvokeAsync(() => NativeResult.Check(call(), operation)).ConfigureAwait(false);
    }

    private void CheckRelayId(int relay)
    {
        if (relay < 0 || relay >= MaxRelays)
        {
            throw new DataplaneException("checking the relay id", (int)Errno.ERANGE,
                $"relay {relay} does not exist: relays are 0..{MaxRelays - 1} (VIRTIOFWD_MAX_RELAYS)");
        }
    }

    private static RelayState ReadRelay(int relay)
    {
        NativeResult.Check(NativeMethods.RelayGet((uint)relay, out NativeRelayInfo info), $"reading relay {relay}");
        return RelayStateMapper.ToModel(in info);
    }

    private void PumpEvents()
    {
        while (!_stopping)
        {
            int rc = NativeMethods.EventWait(out NativeEvent ev, EventPollMilliseconds);
            if (rc < 0)
            {
                break;
            }

            if (rc == 0)
            {
                continue;
            }

            var type = (DataplaneEventType)ev.Type;
            _events.Writer.TryWrite(new DataplaneEvent(type, (int)ev.Relay, ev.Value, ev.TimeNs));
        }
    }
}
