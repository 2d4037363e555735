namespace Vio4wd.Core.Reconciliation;

/// <summary>
/// The last pass result of each relay, and the requests waiting for one: a request that changed
/// the desired state awaits the first pass at (or after) the generation its change made, instead
/// of polling the stores. A result is recorded after the relay's status, so a waiter that reads
/// the status finds what the pass left.
/// </summary>
public sealed class PassResults
{
    /// <summary>How long a request (ZMQ port control, the control API, the core scheduler) waits for its change to be applied.</summary>
    public static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly Dictionary<int, PassResult> _last = [];
    private readonly Dictionary<int, List<Waiter>> _waiting = [];

    private sealed record Waiter(long Generation, TaskCompletionSource<PassResult> Done);

    /// <summary>Raised with every result, after its waiters were released.</summary>
    public event Action<PassResult>? Recorded;

    /// <summary>The relay's last pass result, or null when it never had a pass.</summary>
    public PassResult? Last(int relay)
    {
        lock (_lock)
        {
            return _last.GetValueOrDefault(relay);
        }
    }

    public void Record(PassResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        List<Waiter>? released = null;
        lock (_lock)
        {
            _last[result.Relay] = result;
            if (_waiting.TryGetValue(result.Relay, out List<Waiter>? waiters))
            {
                released = waiters.FindAll(w => w.Generation <= result.Generation);
                waiters.RemoveAll(w => w.Generation <= result.Generation);
                if (waiters.Count == 0)
                {
                    _waiting.Remove(result.Relay);
                }
            }
        }

        foreach (Waiter waiter in released ?? [])
        {
            waiter.Done.TrySetResult(result);
        }

        Recorded?.Invoke(result);
    }

    /// <summary>
    /// The first pass over <paramref name="relay"/> that worked from <paramref name="generation"/>
    /// or a later one, whether it succeeded or failed (see <see cref="PassResult.Outcome"/>); at
    /// once when it has already happened. Generation 0 (nothing was ever asked of the relay) has
    /// nothing to wait for.
    /// </summary>
    public Task<PassResult> WaitForPassAsync(int relay, long generation, CancellationToken cancellationToken)
    {
        TaskCompletionSource<PassResult> done;
        var waiter = new Waiter(generation, done = new TaskCompletionSource<PassResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (_last.TryGetValue(relay, out PassResult? last) && last.Generation >= generation)
            {
                return Task.FromResult(last);
            }

            if (generation <= 0)
            {
                return Task.FromResult(new PassResult(relay, 0, PassOutcome.Removed, null, DateTimeOffset.MinValue, TimeSpan.Zero));
            }

            if (!_waiting.TryGetValue(relay, out List<Waiter>? waiters))
            {
                _waiting[relay] = waiters = [];
            }

            waiters.Add(waiter);
        }

        return WaitAsync(relay, waiter, cancellationToken);
    }

    /// <summary>As <see cref="WaitForPassAsync"/> within <paramref name="timeout"/> (on <paramref name="time"/>'s clock); null when it did not come in time.</summary>
    public async Task<PassResult?> WaitForPassAsync(int relay, long generation, TimeSpan timeout, TimeProvider? time = null)
    {
        using var deadline = new CancellationTokenSource(timeout, time ?? TimeProvider.System);
        try
        {
            return await WaitForPassAsync(relay, generation, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<PassResult> WaitAsync(int relay, Waiter waiter, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration cancel = cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (_waiting.TryGetValue(relay, out List<Waiter>? waiters) && waiters.Remove(waiter) && waiters.Count == 0)
                {
                    _waiting.Remove(relay);
                }
            }

            waiter.Done.TrySetCanceled(cancellationToken);
        });
        return await waiter.Done.Task.ConfigureAwait(false);
    }
}
