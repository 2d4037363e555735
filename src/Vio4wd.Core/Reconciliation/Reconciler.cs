using System.Threading.RateLimiting;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Tasks;

namespace Vio4wd.Core.Reconciliation;

/// <summary>Tuning of the reconciler.</summary>
public sealed record ReconcilerOptions
{
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Dataplane passes per second, all relays together, once a burst is spent (token bucket).</summary>
    public int PassesPerSecond { get; init; } = 100;

    /// <summary>
    /// Passes allowed at once: enough for every relay of a full host to come up twice (its socket,
    /// then its device or VM) without waiting for tokens, so a start or a bulk plug is not paced
    /// while a flapping source is still held to <see cref="PassesPerSecond"/>.
    /// </summary>
    public int PassBurst { get; init; } = 1024;
}

/// <summary>
/// Level-triggered: each pass over a relay compares the desired state with the live state the
/// dataplane reports (the dataplane is the truth, not a cache) and makes only the changes that
/// differ, so repeating a pass does nothing and an unchanged relay is never touched. Events and
/// a periodic full resync only say "look again"; failures retry with per-relay backoff.
/// </summary>
public sealed class Reconciler : IDisposable
{
    private readonly IDataplane _dataplane;
    private readonly DesiredStateStore _desired;
    private readonly RelayStatusStore _statuses;
    private readonly ReconcilerOptions _options;
    private readonly TimeProvider _time;
    private readonly Worklist _work;
    private readonly TokenBucketRateLimiter _limiter;
    private long _resyncs;
    private long _passes;
    private long _failures;
    private long _lastResync;
    private long _passStarted;

    public Reconciler(IDataplane dataplane, DesiredStateStore desired, RelayStatusStore statuses, ReconcilerOptions? options = null, TimeProvider? time = null)
    {
        _dataplane = dataplane;
        _desired = desired;
        _statuses = statuses;
        _options = options ?? new ReconcilerOptions();
        _time = time ?? TimeProvider.System;
        _work = new Worklist(_options.BackoffBase, _options.BackoffMax, _time);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(_options.PassBurst, 1),
            // Refilled in tenths of a second, not all at once: a spent bucket lets passes through
            // steadily rather than in a lump each second.
            TokensPerPeriod = Math.Max(_options.PassesPerSecond / 10, 1),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        });
        _desired.Changed += change =>
        {
            foreach (int id in change.Relays)
            {
                Plugs?.Begin(id, _desired.Get(id)?.Generation, _statuses.Get(id)?.Ready == true, change.Cause, change.InputAt);
                _work.Add(id);
                Step(id, "queued");
            }
        };
    }

    /// <summary>Where each change of a relay's desired state is traced step by step (none: not traced).</summary>
    public PlugTracer? Plugs { get; init; }

    /// <summary>Called with every event recorded on a relay (for the log).</summary>
    public Action<int, RelayEvent>? EventRecorded { get; init; }

    /// <summary>Called when a pass failed with something other than a dataplane refusal (a defect: logged with its stack).</summary>
    public Action<int, Exception>? UnexpectedFailure { get; init; }

    /// <summary>Called when a periodic resync could not read the dataplane.</summary>
    public Action<Exception>? ResyncFailed { get; init; }

    /// <summary>Called after every pass over one relay with its duration and whether it failed (for metrics).</summary>
    public Action<TimeSpan, bool>? PassCompleted { get; init; }

    /// <summary>Called with every dataplane event the reconciler reads (it is their only reader).</summary>
    public Action<DataplaneEvent>? DataplaneEventSeen { get; init; }

    /// <summary>
    /// Completes once every desired relay has had a pass at its current generation (successful
    /// or with an error on its status), or when the timeout passes.
    /// </summary>
    public async Task WhenSyncedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        DateTimeOffset deadline = _time.GetUtcNow() + timeout;
        while (_time.GetUtcNow() < deadline && !_desired.All().All(Synced))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }

        bool Synced(DesiredRelay want) =>
            _statuses.Get(want.Spec.RelayId) is { } status
            && (status.ObservedGeneration >= want.Generation || status.LastError is not null);
    }

    /// <summary>Full resyncs so far (periodic, after lost events, or asked for).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>Passes over single relays so far, failed ones included.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Passes that failed so far.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>When the last full resync ran (null: none yet); periodic resyncs are the reconciler's heartbeat.</summary>
    public DateTimeOffset? LastResync => Interlocked.Read(ref _lastResync) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>How long the pass now running has taken (null: none running); a pass that never ends means a wedged dataplane.</summary>
    public TimeSpan? RunningPass => Interlocked.Read(ref _passStarted) is var started and > 0 ? _time.GetElapsedTime(started) : null;

    /// <summary>Queues every relay that is desired or live (a relay backing off keeps its scheduled retry).</summary>
    public async Task ResyncAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _resyncs);
        Interlocked.Exchange(ref _lastResync, _time.GetUtcNow().UtcTicks);
        foreach (DesiredRelay relay in _desired.All())
        {
            _work.AddUnlessBackingOff(relay.Spec.RelayId);
        }

        foreach (RelayState live in await _dataplane.ListRelaysAsync(cancellationToken).ConfigureAwait(false))
        {
            _work.AddUnlessBackingOff(live.Id);
        }
    }

    /// <summary>Processes the worklist, dataplane events and periodic resyncs until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => Together.RunAsync(cancellationToken, ProcessAsync, PumpEventsAsync);

    /// <summary>
    /// Works through the worklist and resyncs periodically until cancelled. A pass that fails,
    /// whatever the exception, fails that relay only: it is retried with its backoff and every
    /// other relay keeps converging.
    /// </summary>
    public async Task ProcessAsync(CancellationToken cancellationToken)
    {
        Task resync = ResyncPeriodicallyAsync(cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                int id = await _work.TakeAsync(cancellationToken).ConfigureAwait(false);
                Step(id, "dequeued");
                long started = 0;
                bool failed = false;
                try
                {
                    using RateLimitLease lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                    started = _time.GetTimestamp();
                    Step(id, "pass started");
                    Interlocked.Exchange(ref _passStarted, started);
                    await ReconcileAsync(id, cancellationToken).ConfigureAwait(false);
                    _work.Forget(id);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failed = true;
                    Step(id, "pass failed");
                    Interlocked.Increment(ref _failures);
                    Failed(id, e, await LiveOrNullAsync(id, cancellationToken).ConfigureAwait(false));
                }
                finally
                {
                    Interlocked.Exchange(ref _passStarted, 0);
                    Interlocked.Increment(ref _passes);
                    _work.Done(id);
                    if (started != 0)
                    {
                        PassCompleted?.Invoke(_time.GetElapsedTime(started), failed);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await resync.ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the dataplane's events until cancelled: each records what happened on its relay and
    /// asks for another look, through the relay's backoff. Throws <see cref="DataplaneFailedException"/>
    /// when the dataplane stops reporting (its event queue ended): the daemon cannot go on.
    /// </summary>
    public async Task PumpEventsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (DataplaneEvent e in _dataplane.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                DataplaneEventSeen?.Invoke(e);
                if (DataplaneEventText.AsRelayEvent(e, _time.GetUtcNow()) is { } happened && _statuses.Get(e.Relay) is not null)
                {
                    Record(e.Relay, s => s.WithEvent(happened));
                }

                if (e.Type == DataplaneEventType.EventsLost)
                {
                    await ResyncAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    _work.AddUnlessBackingOff(e.Relay);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is not DataplaneFailedException)
        {
            throw new DataplaneFailedException($"the dataplane's event queue failed: {e.Message}", e);
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            throw new DataplaneFailedException("the dataplane's event queue ended");
        }
    }

    /// <summary>One level-triggered pass over one relay.</summary>
    public async Task ReconcileAsync(int id, CancellationToken cancellationToken)
    {
        DesiredRelay? want = _desired.Get(id);
        RelaySpec? spec = want?.Spec;
        RelayState live = await _dataplane.GetRelayAsync(id, cancellationToken).ConfigureAwait(false);
        Step(id, "live state read");
        RelayStatus before = _statuses.Get(id) ?? new RelayStatus { Id = id };
        VhostSocketSpec? liveSocket = live.Vm.Socket is null ? null : new VhostSocketSpec(live.Vm.Socket, live.Vm.Mode);
        DeviceAttachment? liveDevice = LiveDevice(live);
        bool socketDiffers = !Equals(liveSocket, spec?.Socket);
        // A device that reported its removal (a VF unplugged) is taken down and attached again, with
        // the relay's backoff while it is absent, so the relay comes back when the device does.
        bool deviceRemoved = live.Device.Attached && live.Device.Failed && spec?.Device is not null;
        bool deviceDiffers = !RelaySpec.SameDevice(liveDevice, spec?.Device) || deviceRemoved;
        // The spec is the one already applied, yet the relay differs: it changed underneath.
        bool drifted = before.ObservedGeneration == want?.Generation && before.Spec is not null && (socketDiffers || deviceDiffers);
        var acted = new List<string>();

        if (socketDiffers)
        {
            if (liveSocket is not null)
            {
                await _dataplane.UnregisterSocketAsync(id, cancellationToken).ConfigureAwait(false);
                Step(id, "socket removed");
                acted.Add($"removed socket {liveSocket.Path}");
            }

            if (spec?.Socket is { } socket)
            {
                await _dataplane.RegisterSocketAsync(id, socket.Path, socket.Mode, cancellationToken).ConfigureAwait(false);
                Step(id, "socket registered");
                acted.Add($"registered socket {socket.Path} ({socket.Mode.ToString().ToLowerInvariant()} mode)");
            }
        }

        if (deviceDiffers)
        {
            if (liveDevice is not null)
            {
                await _dataplane.DetachDeviceAsync(id, cancellationToken).ConfigureAwait(false);
                Step(id, "device detached");
                acted.Add(deviceRemoved ? $"detached {liveDevice} (it was removed)" : $"detached {liveDevice}");
            }

            if (spec?.Device is { } device)
            {
                await _dataplane.AttachDeviceAsync(id, device, cancellationToken).ConfigureAwait(false);
                Step(id, "device attached");
                acted.Add($"attached {device}");
            }
        }

        var livePins = new CpuPins(live.VfToVm.PinnedCpu, live.VmToVf.PinnedCpu);
        CpuPins wantPins = spec?.Pins ?? new CpuPins(null, null);
        if (livePins != wantPins)
        {
            await _dataplane.SetCpusAsync(id, wantPins.VfToVm, wantPins.VmToVf, cancellationToken).ConfigureAwait(false);
            Step(id, "CPUs set");
            acted.Add($"pinned to CPUs {wantPins.VfToVm?.ToString() ?? "auto"},{wantPins.VmToVf?.ToString() ?? "auto"}");
        }

        RelayState now = acted.Count > 0 ? await _dataplane.GetRelayAsync(id, cancellationToken).ConfigureAwait(false) : live;
        RelayEvent? done = acted.Count == 0 ? null
            : new RelayEvent(_time.GetUtcNow(), drifted ? "Warning" : "Normal", drifted ? "DriftRepaired" : "Reconciled", string.Join("; ", acted));
        if (acted.Count > 0)
        {
            Step(id, "live state read");
        }

        if (want is null && now.IsEmpty)
        {
            _statuses.Remove(id);
            Plugs?.Applied(id, null, ready: false);
            if (done is not null)
            {
                EventRecorded?.Invoke(id, done);
            }

            return;
        }

        // Before the status says so: what reads the status (a source writing it back) finds the trace done.
        Plugs?.Applied(id, want?.Generation, IsReady(now));

        Record(id, s =>
        {
            RelayStatus next = s with { Source = want?.Source, Spec = spec, Generation = want?.Generation ?? s.Generation, ObservedGeneration = want?.Generation ?? s.Generation, LastError = null, Live = now };
            return WithConditions(done is null ? next : next.WithEvent(done), want, now);
        });
        if (done is not null)
        {
            EventRecorded?.Invoke(id, done);
        }
    }

    // What a failed pass left behind (a device detached before its re-attach failed), so the
    // conditions tell that rather than what the relay was before the pass.
    private async Task<RelayState?> LiveOrNullAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            return await _dataplane.GetRelayAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DataplaneException or OperationCanceledException)
        {
            return null;
        }
    }

    private void Failed(int id, Exception e, RelayState? live)
    {
        TimeSpan retry = _work.AddRateLimited(id);
        // A dataplane refusal says what was wrong; anything else is a defect worth its type.
        string message = e is DataplaneException ? e.Message : $"{e.GetType().Name}: {e.Message}";
        var failed = new RelayEvent(_time.GetUtcNow(), "Warning", "ReconcileFailed", $"{message}; retrying in {retry.TotalMilliseconds:0} ms");
        // The generation this pass tried: with LastError set and ObservedGeneration behind, it failed.
        long tried = _desired.Get(id)?.Generation ?? 0;
        Record(id, s => (live is null ? s : WithConditions(s with { Live = live }, _desired.Get(id), live))
            .WithEvent(failed).WithCondition(ConditionTypes.Ready, false, "Error", message, failed.Time)
            with { LastError = message, Generation = Math.Max(s.Generation, tried) });
        EventRecorded?.Invoke(id, failed);
        if (e is not DataplaneException)
        {
            UnexpectedFailure?.Invoke(id, e);
        }
    }

    public void Dispose()
    {
        _work.Dispose();
        _limiter.Dispose();
    }

    private RelayStatus WithConditions(RelayStatus status, DesiredRelay? want, RelayState live)
    {
        DateTimeOffset now = _time.GetUtcNow();
        bool wantsDevice = want?.Spec.Device is not null;
        bool deviceReady = DeviceReady(live);
        status = status.WithCondition(ConditionTypes.DeviceReady, deviceReady,
            deviceReady ? "Attached" : live.Device.Failed ? "DeviceRemoved" : wantsDevice ? "NotAttached" : "NoDevice",
            deviceReady ? $"{string.Join(", ", live.Device.Devices)} is DPDK port {live.Device.Port}" : wantsDevice ? "the device is not attached" : "no device is configured for this relay", now);
        status = status.WithCondition(ConditionTypes.VhostConnected, live.Vm.Connected,
            live.Vm.Connected ? "Connected" : live.Vm.Socket is null ? "NoSocket" : "WaitingForVm",
            live.Vm.Connected ? $"VM connected on {live.Vm.Socket} with {live.Vm.QueuePairs} queue pair(s)" : live.Vm.Socket is null ? "no vhost-user socket" : $"no VM on {live.Vm.Socket}", now);
        bool ready = IsReady(live);
        return status.WithCondition(ConditionTypes.Ready, ready,
            ready ? "Forwarding" : !deviceReady ? "DeviceNotReady" : "VhostNotConnected",
            ready ? "packets flow both ways" : "waiting for both sides", now);
    }

    private static bool DeviceReady(RelayState live) => live.Device.Attached && live.Device.Started && !live.Device.Failed;

    private static bool IsReady(RelayState live) => DeviceReady(live) && live.Vm.Connected;

    private static DeviceAttachment? LiveDevice(RelayState live) =>
        !live.Device.Attached ? null
        : live.Device.BondMode is { } mode ? DeviceAttachment.Bond(mode, live.Device.Devices)
        : DeviceAttachment.Of(live.Device.Devices[0]);

    private void Record(int id, Func<RelayStatus, RelayStatus> change) => _statuses.Update(id, change);

    private void Step(int id, string name) => Plugs?.Mark(id, name);

    private async Task ResyncPeriodicallyAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ResyncPeriod, _time);
        try
        {
            do
            {
                try
                {
                    await ResyncAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next period tries again; relays keep their own retries.
                    ResyncFailed?.Invoke(e);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
