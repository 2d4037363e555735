using Vio4wd.Contracts;
using System.Threading.Channels;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Fuzz;

/// <summary>A dataplane with two fixed relays, for the ZMQ services' request handling (which only reads it).</summary>
internal sealed class FuzzDataplane : IDataplane
{
    private static readonly RelayState[] Relays = [Relay(0, connected: true), Relay(3, connected: false)];

    public int MaxRelays => 32;

    public IReadOnlyList<int> WorkerCpus => [1];

    public ChannelReader<DataplaneEvent> Events => Channel.CreateUnbounded<DataplaneEvent>().Reader;

    public Task AttachDeviceAsync(int relay, DeviceAttachment device, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task DetachDeviceAsync(int relay, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task RegisterSocketAsync(int relay, string path, VhostMode mode, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task UnregisterSocketAsync(int relay, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task SetCpusAsync(int relay, int? vfToVmCpu, int? vmToVfCpu, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<RelayState> GetRelayAsync(int relay, CancellationToken cancellationToken = default) =>
        Task.FromResult(Relays.FirstOrDefault(r => r.Id == relay) ?? Relay(relay, connected: false) with { Device = new DeviceSide() });

    public Task<IReadOnlyList<RelayState>> ListRelaysAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<RelayState>>(Relays);

    public Task<IReadOnlyList<WorkerLoad>> GetWorkerLoadsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<WorkerLoad>>([new WorkerLoad(1, 0, 2, 1000, 9000, 50, 400, 2_000_000_000)]);

    public void SetLogLevel(int level)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static RelayState Relay(int id, bool connected) => new()
    {
        Id = id,
        Vm = new VmSide { Socket = $"/run/vio/virtio-forwarder{id}.sock", Connected = connected, Vid = connected ? id : null, QueuePairs = connected ? 1 : 0 },
        Device = new DeviceSide { Attached = true, Started = true, Devices = [$"0000:00:0{id}.0"], Port = id },
        VmToVf = new DirectionPlacement(1, null),
        VfToVm = new DirectionPlacement(1, null),
        VmToVfStats = new DirectionStats { RxPackets = 10, RxBytes = 640, TxPackets = 10, TxBytes = 640 },
        VfToVmStats = new DirectionStats { RxPackets = 20, RxBytes = 1280, TxPackets = 18, TxBytes = 1152, DroppedUnavailablePackets = 2 },
    };
}

/// <summary>Timers that fire at once: a stats request's delay must not slow the fuzzer down.</summary>
internal sealed class ImmediateTimeProvider : TimeProvider
{
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        base.CreateTimer(callback, state, dueTime == Timeout.InfiniteTimeSpan ? dueTime : TimeSpan.Zero, period);
}
