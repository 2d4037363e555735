namespace Vio4wd.Core.Reconciliation;

/// <summary>
/// The work queue of a Kubernetes-style controller (client-go's workqueue), for relay ids: a key is queued at most once,
/// a key being processed is not handed out again until <see cref="Done"/> (and is requeued then
/// if it was added meanwhile), and failures requeue with per-key exponential backoff.
/// </summary>
public sealed class Worklist : IDisposable
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<int, DateTime> _delayed = new();
    private readonly Queue<int> _ready = new();
    private readonly HashSet<int> _queued = [];
    private readonly HashSet<int> _processing = [];
    private readonly HashSet<int> _dirty = [];
    private readonly Dictionary<int, int> _failures = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly TimeProvider _time;

    public Worklist(TimeSpan baseDelay, TimeSpan maxDelay, TimeProvider? time = null)
    {
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>Queues a key now (no-op when it is already queued).</summary>
    public void Add(int key)
    {
        lock (_lock)
        {
            if (_processing.Contains(key))
            {
                _dirty.Add(key);
                return;
            }

            if (_queued.Add(key))
            {
                _ready.Enqueue(key);
                _signal.Release();
            }
        }
    }

    /// <summary>
    /// Queues a key unless it is backing off after a failure: its retry is already scheduled and
    /// will look again then. For events (a guest toggling its queues, a link flapping), so they
    /// cannot drive retries of a failing relay faster than its backoff allows.
    /// </summary>
    public void AddUnlessBackingOff(int key)
    {
        lock (_lock)
        {
            if (_failures.ContainsKey(key))
            {
                return;
            }
        }

        Add(key);
    }

    /// <summary>Queues a key after its next backoff delay: 1, 2, 4, ... times the base, up to the maximum.</summary>
    public TimeSpan AddRateLimited(int key)
    {
        TimeSpan delay;
        lock (_lock)
        {
            int failures = _failures.GetValueOrDefault(key);
            _failures[key] = failures + 1;
            double factor = Math.Pow(2, Math.Min(failures, 30));
            delay = TimeSpan.FromTicks((long)Math.Min(MaxDelay.Ticks, BaseDelay.Ticks * factor));
            _delayed.Enqueue(key, _time.GetUtcNow().UtcDateTime + delay);
        }

        _signal.Release();
        return delay;
    }

    /// <summary>Clears the failure count of a key (it succeeded).</summary>
    public void Forget(int key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>The next key to process; waits for one.</summary>
    public async Task<int> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                PromoteDue();
                if (_ready.TryDequeue(out int key))
                {
                    _queued.Remove(key);
                    _processing.Add(key);
                    return key;
                }

                wait = _delayed.TryPeek(out _, out DateTime due)
                    ? due - _time.GetUtcNow().UtcDateTime
                    : Timeout.InfiniteTimeSpan;
            }

            if (wait != Timeout.InfiniteTimeSpan && wait < TimeSpan.Zero)
            {
                continue;
            }

            await WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    // Until a key is added or the wait is over, on the worklist's clock (a test's fake one too).
    private async Task WaitAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (wait == Timeout.InfiniteTimeSpan)
        {
            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        using var due = new CancellationTokenSource(wait, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(due.Token, cancellationToken);
        try
        {
            await _signal.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (due.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Processing of a key ended; a key added meanwhile is queued again.</summary>
    public void Done(int key)
    {
        lock (_lock)
        {
            _processing.Remove(key);
            if (_dirty.Remove(key) && _queued.Add(key))
            {
                _ready.Enqueue(key);
                _signal.Release();
            }
        }
    }

    public void Dispose() => _signal.Dispose();

    private void PromoteDue()
    {
        DateTime now = _time.GetUtcNow().UtcDateTime;
        while (_delayed.TryPeek(out int key, out DateTime due) && due <= now)
        {
            _delayed.Dequeue();
            if (_processing.Contains(key))
            {
                _dirty.Add(key);
            }
            else if (_queued.Add(key))
            {
                _ready.Enqueue(key);
            }
        }
    }
}
