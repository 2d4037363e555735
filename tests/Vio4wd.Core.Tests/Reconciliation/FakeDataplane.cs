using Vio4wd.Contracts;
using System.Threading.Channels;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Tests.Reconciliation;

/// <summary>
/// An in-memory dataplane for reconciler logic: it fails, restarts and drifts on command and
/// counts every change it is asked to make, per relay.
/// </summary>
internal sealed class FakeDataplane : IDataplane
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, RelayState> _relays = [];
    private readonly Dictionary<string, int> _failures = [];
    private readonly Dictionary<int, Func<Exception>> _broken = [];
    private readonly Dictionary<int, int> _attempts = [];
    private readonly Channel<DataplaneEvent> _events = Channel.CreateUnbounded<DataplaneEvent>();
    private TaskCompletionSource? _hold;
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int MaxRelays => 32;

    public IReadOnlyList<int> WorkerCpus => [1, 2];

    public ChannelReader<DataplaneEvent> Events => _events.Reader;

    /// <summary>Changes made, per relay, in order ("attach", "detach", "register", "unregister", "pin").</summary>
    public Dictionary<int, List<string>> Calls { get; } = [];

    public int CallsOn(int relay)
    {
        lock (_lock)
        {
            return Calls.GetValueOrDefault(relay)?.Count ?? 0;
        }
    }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> fail.</summary>
    public void Fail(string operation, int times)
    {
        lock (_lock)
        {
            _failures[operation] = times;
        }
    }

    /// <summary>Every change asked of <paramref name="relay"/> throws what <paramref name="error"/> makes, until healed (null).</summary>
    public void Break(int relay, Func<Exception>? error)
    {
        lock (_lock)
        {
            if (error is null)
            {
                _broken.Remove(relay);
            }
            else
            {
                _broken[relay] = error;
            }
        }
    }

    /// <summary>Changes attempted on a relay, failed ones included.</summary>
    public int AttemptsOn(int relay)
    {
        lock (_lock)
        {
            return _attempts.GetValueOrDefault(relay);
        }
    }

    /// <summary>The guest enables or disables a queue: an event, nothing else changes.</summary>
    public void ToggleQueue(int relay, bool enabled) =>
        _events.Writer.TryWrite(new DataplaneEvent(DataplaneEventType.QueueState, relay, enabled ? 1 : 0, 0));

    /// <summary>The dataplane stops reporting, as when its event queue fails.</summary>
    public void EndEvents() => _events.Writer.TryComplete();

    /// <summary>From now on every change waits until <see cref="Release"/> (a slow dataplane); <see cref="Held"/> completes once one waits.</summary>
    public void Hold()
    {
        lock (_lock)
        {
            _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public Task Held
    {
        get
        {
            lock (_lock)
            {
                return _held.Task;
            }
        }
    }

    public void Release()
    {
        lock (_lock)
        {
            _hold?.TrySetResult();
            _hold = null;
        }
    }

    /// <summary>Everything is gone, as after a dataplane restart.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            _relays.Clear();
        }
    }

    /// <summary>The device reports its removal (a VF unplugged): still attached, failed.</summary>
    public void RemoveDevice(int relay)
    {
        lock (_lock)
        {
            RelayState r = Get(relay);
            _relays[relay] = r with { Device = r.Device with { Failed = true } };
        }

        _events.Writer.TryWrite(new DataplaneEvent(DataplaneEventType.DeviceFailed, relay, relay, 0));
    }

    /// <summary>The device of a relay disappears behind the control plane's back.</summary>
    /// <summary>The device is gone and no event says so: only a resync can notice.</summary>
    public void DropDeviceSilently(int relay)
    {
        lock (_lock)
        {
            _relays[relay] = Get(relay) with { Device = new DeviceSide() };
        }
    }

    public void DropDevice(int relay)
    {
        lock (_lock)
        {
            _relays[relay] = Get(relay) with { Device = new DeviceSide() };
        }

        _events.Writer.TryWrite(new DataplaneEvent(DataplaneEventType.DeviceDetached, relay, 0, 0));
    }

    public void ConnectVm(int relay)
    {
        lock (_lock)
        {
            RelayState r = Get(relay);
            _relays[relay] = r with { Vm = r.Vm with { Connected = true, QueuePairs = 1 } };
        }

        _events.Writer.TryWrite(new DataplaneEvent(DataplaneEventType.VmConnected, relay, 0, 0));
    }

    /// <summary>Counts packets of 100 bytes through the relay's VF to VM direction.</summary>
    public void AddTraffic(int relay, ulong packets)
    {
        lock (_lock)
        {
            RelayState r = Get(relay);
            DirectionStats s = r.VfToVmStats;
            _relays[relay] = r with
            {
                VfToVmStats = s with { RxPackets = s.RxPackets + packets, RxBytes = s.RxBytes + (packets * 100), TxPackets = s.TxPackets + packets, TxBytes = s.TxBytes + (packets * 100) },
            };
        }
    }

    public Task AttachDeviceAsync(int relay, DeviceAttachment device, CancellationToken cancellationToken = default) =>
        Change(relay, "attach", r => r.Device.Attached ? throw Error("attach", 17, $"relay {relay} already has a device")
            : r with { Device = new DeviceSide { Attached = true, Started = true, Devices = device.Devices, BondMode = device.BondMode, Port = relay } });

    public Task DetachDeviceAsync(int relay, CancellationToken cancellationToken = default) =>
        Change(relay, "detach", r => !r.Device.Attached ? throw Error("detach", 2, $"relay {relay} has no device") : r with { Device = new DeviceSide() });

    public Task RegisterSocketAsync(int relay, string path, VhostMode mode, CancellationToken cancellationToken = default) =>
        Change(relay, "register", r => r.Vm.Socket is not null ? throw Error("register", 17, $"relay {relay} already has a socket")
            : r with { Vm = new VmSide { Socket = path, Mode = mode } });

    public Task UnregisterSocketAsync(int relay, CancellationToken cancellationToken = default) =>
        Change(relay, "unregister", r => r.Vm.Socket is null ? throw Error("unregister", 2, $"relay {relay} has no socket") : r with { Vm = new VmSide() });

    public Task SetCpusAsync(int relay, int? vfToVmCpu, int? vmToVfCpu, CancellationToken cancellationToken = default) =>
        Change(relay, "pin", r => r with { VfToVm = new DirectionPlacement(vfToVmCpu, vfToVmCpu), VmToVf = new DirectionPlacement(vmToVfCpu, vmToVfCpu) });

    public Task<RelayState> GetRelayAsync(int relay, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(Get(relay));
        }
    }

    public Task<IReadOnlyList<RelayState>> ListRelaysAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<RelayState>>([.. _relays.Values.Where(r => !r.IsEmpty)]);
        }
    }

    public Task<IReadOnlyList<WorkerLoad>> GetWorkerLoadsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<WorkerLoad>>([]);

    public int LogLevel { get; private set; } = -1;

    public void SetLogLevel(int level) => LogLevel = level;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static DataplaneException Error(string operation, int errno, string message) => new(operation, errno, message);

    private async Task Change(int relay, string operation, Func<RelayState, RelayState> change)
    {
        Task? hold = null;
        lock (_lock)
        {
            if (_hold is { } held)
            {
                hold = held.Task;
                _held.TrySetResult();
            }
        }

        if (hold is not null)
        {
            await hold.ConfigureAwait(false);
        }

        lock (_lock)
        {
            _attempts[relay] = _attempts.GetValueOrDefault(relay) + 1;
            if (_broken.TryGetValue(relay, out Func<Exception>? broken))
            {
                throw broken();
            }

            if (_failures.TryGetValue(operation, out int left) && left > 0)
            {
                _failures[operation] = left - 1;
                throw Error(operation, 5, $"{operation} on relay {relay} failed (injected)");
            }

            _relays[relay] = change(Get(relay));
            if (!Calls.TryGetValue(relay, out List<string>? calls))
            {
                Calls[relay] = calls = [];
            }

            calls.Add(operation);
        }
    }

    private RelayState Get(int relay) => _relays.GetValueOrDefault(relay) ?? new RelayState
    {
        Id = relay,
        Vm = new VmSide(),
        Device = new DeviceSide(),
        VmToVf = new DirectionPlacement(null, null),
        VfToVm = new DirectionPlacement(null, null),
        VmToVfStats = new DirectionStats(),
        VfToVmStats = new DirectionStats(),
    };
}
