using System.Threading.RateLimiting;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Tasks;

namespace Vio4wd.Core.Reconciliation;

/// <summary>Tuning of the controller.</summary>
public sealed record ControllerOptions
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
/// Decides when each relay gets a pass, in the shape of controller-runtime's controller: it owns
/// the work queue (one entry per relay however many times it is asked for), per-relay backoff
/// after failures, the rate limit, the periodic resync and the intake of desired-state changes
/// and dataplane events, all of which only say "look at this relay again". Each pass is a
/// <see cref="RelayReconciler"/> step; its outcome is written to the relay's status and recorded
/// as a <see cref="PassResult"/> that requests await. Observers (the plug tracer, the log, the
/// metrics) are told of each step.
/// </summary>
public sealed class RelayController : IDisposable
{
    private readonly DataplaneHandle _dataplane;
    private readonly DesiredStateStore _desired;
    private readonly RelayStatusStore _statuses;
    private readonly PassResults _results;
    private readonly RelayReconciler _reconciler;
    private readonly IReconcileObserver[] _observers;
    private readonly ControllerOptions _options;
    private readonly TimeProvider _time;
    private readonly Worklist _work;
    private readonly TokenBucketRateLimiter _limiter;
    private long _resyncs;
    private long _passes;
    private long _failures;
    private long _lastResync;
    private long _passStarted;

    public RelayController(DataplaneHandle dataplane, DesiredStateStore desired, RelayStatusStore statuses, PassResults results,
        IEnumerable<IReconcileObserver>? observers = null, ControllerOptions? options = null, TimeProvider? time = null)
    {
        _dataplane = dataplane;
        _desired = desired;
        _statuses = statuses;
        _results = results;
        _observers = [.. observers ?? []];
        _options = options ?? new ControllerOptions();
        _time = time ?? TimeProvider.System;
        _reconciler = new RelayReconciler(_time);
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
        _desired.Changed += OnDesiredChanged;
    }

    /// <summary>Full resyncs so far (periodic, after lost events, or asked for).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>Passes over single relays so far, failed ones included.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Passes that failed so far.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>When the last full resync ran (null: none yet); periodic resyncs are the controller's heartbeat.</summary>
    public DateTimeOffset? LastResync => Interlocked.Read(ref _lastResync) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>How long the pass now running has taken (null: none running); a pass that never ends means a wedged dataplane.</summary>
    public TimeSpan? RunningPass => Interlocked.Read(ref _passStarted) is var started and > 0 ? _time.GetElapsedTime(started) : null;

    /// <summary>The results of the passes, to await one (<see cref="PassResults.WaitForPassAsync(int, long, CancellationToken)"/>).</summary>
    public PassResults Results => _results;

    /// <summary>
    /// Completes once every desired relay has had a pass at its current generation (successful or
    /// not: see its status), or when the timeout passes.
    /// </summary>
    public async Task WhenSyncedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            await Task.WhenAll(_desired.All().Select(want => _results.WaitForPassAsync(want.Spec.RelayId, want.Generation, either.Token))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Queues every relay that is desired or live (a relay backing off keeps its scheduled retry).</summary>
    public async Task ResyncAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _resyncs);
        Interlocked.Exchange(ref _lastResync, _time.GetUtcNow().UtcTicks);
        foreach (DesiredRelay relay in _desired.All())
        {
            _work.AddUnlessBackingOff(relay.Spec.RelayId);
        }

        foreach (RelayState live in await _dataplane.Required.ListRelaysAsync(cancellationToken).ConfigureAwait(false))
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
                try
                {
                    await PassAsync(id, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _work.Done(id);
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
            await foreach (DataplaneEvent e in _dataplane.Required.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                Notify(o => o.DataplaneEventSeen(e));
                if (DataplaneEventText.AsRelayEvent(e, _time.GetUtcNow()) is { } happened && _statuses.Get(e.Relay) is not null)
                {
                    _statuses.Update(e.Relay, s => s.WithEvent(happened));
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

    public void Dispose()
    {
        _desired.Changed -= OnDesiredChanged;
        _work.Dispose();
        _limiter.Dispose();
    }

    private void OnDesiredChanged(DesiredChange change)
    {
        foreach (int id in change.Relays)
        {
            long generation = _desired.GenerationOf(id);
            bool wasReady = _statuses.Get(id)?.Ready == true;
            Notify(o => o.Queued(id, generation, wasReady, change));
            _work.Add(id);
            Step(id, "queued");
        }
    }

    // One pass over one relay; its outcome, success or failure, becomes the relay's status and a pass result.
    private async Task PassAsync(int id, CancellationToken cancellationToken)
    {
        Step(id, "dequeued");
        long started = 0;
        DesiredRelay? want = null;
        long generation = 0;
        try
        {
            using RateLimitLease lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            started = _time.GetTimestamp();
            Step(id, "pass started");
            Interlocked.Exchange(ref _passStarted, started);
            (want, generation) = _desired.Snapshot(id);
            ReconcileStep done = await _reconciler.ReconcileAsync(id, want, _statuses.Get(id), _dataplane.Required, step => Step(id, step), cancellationToken).ConfigureAwait(false);
            _work.Forget(id);
            Complete(new PassResult(id, generation, done.StatusUpdate is null ? PassOutcome.Removed : PassOutcome.Applied, null, _time.GetUtcNow(), _time.GetElapsedTime(started))
            {
                Ready = done.Ready,
                Event = done.Event,
            }, done.StatusUpdate);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Step(id, "pass failed");
            Interlocked.Increment(ref _failures);
            RelayState? live = await LiveOrNullAsync(id, cancellationToken).ConfigureAwait(false);
            TimeSpan retry = _work.AddRateLimited(id);
            // A dataplane refusal says what was wrong; anything else is a defect worth its type.
            string message = e is DataplaneException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            var failed = new RelayEvent(_time.GetUtcNow(), "Warning", "ReconcileFailed", $"{message}; retrying in {retry.TotalMilliseconds:0} ms");
            Complete(new PassResult(id, generation, PassOutcome.Failed, message, failed.Time, started == 0 ? TimeSpan.Zero : _time.GetElapsedTime(started))
            {
                Event = failed,
                Defect = e is DataplaneException ? null : e,
            }, s => _reconciler.Failed(s, want, live, failed, message));
        }
        finally
        {
            Interlocked.Exchange(ref _passStarted, 0);
            Interlocked.Increment(ref _passes);
        }
    }

    // Observers first (a source writing the status back then finds the plug's trace complete),
    // then the status, then the result that releases whoever waits for it.
    private void Complete(PassResult result, Func<RelayStatus, RelayStatus>? statusUpdate)
    {
        Notify(o => o.PassCompleted(result));
        if (statusUpdate is null)
        {
            _statuses.Remove(result.Relay);
        }
        else
        {
            _statuses.Update(result.Relay, statusUpdate);
        }

        _results.Record(result);
    }

    // What a failed pass left behind (a device detached before its re-attach failed), so the
    // conditions tell that rather than what the relay was before the pass.
    private async Task<RelayState?> LiveOrNullAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            return await _dataplane.Required.GetRelayAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DataplaneException or OperationCanceledException or InvalidOperationException)
        {
            return null;
        }
    }

    private void Step(int id, string name)
    {
        foreach (IReconcileObserver observer in _observers)
        {
            observer.Stepped(id, name);
        }
    }

    private void Notify(Action<IReconcileObserver> tell)
    {
        foreach (IReconcileObserver observer in _observers)
        {
            tell(observer);
        }
    }

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
                    Notify(o => o.ResyncFailed(e));
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
