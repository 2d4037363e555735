using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Sources;

/// <summary>
/// What a source may do with the rest of the daemon: publish its claims (its slice, replaced
/// whole), list what it refused and why, say how it is doing, and read back what became of its
/// claims (refusals, relay statuses), without reaching the dataplane.
/// </summary>
public sealed class SourceContext
{
    private readonly DesiredStateStore _desired;
    private readonly RelayStatusStore _statuses;
    private readonly RejectedRequests _rejected;
    private readonly DaemonParts _parts;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<int>? _publishing;
    private readonly PlugTracer? _plugs;
    private readonly PassResults _passes;
    private readonly RestoredClaims? _restored;
    private int _publishes;

    /// <param name="publishing">Called with the publish's number (from 1) before each publish; what it throws, the source's publish throws (fault injection in tests).</param>
    /// <param name="plugs">Where the source's write-back of a relay's state is marked.</param>
    /// <param name="passes">The controller's pass results, to await a change's (none: no controller runs, a wait times out).</param>
    /// <param name="restored">What the state file held when the daemon started (none: nothing).</param>
    public SourceContext(string source, int maxRelays, DesiredStateStore desired, RelayStatusStore statuses, RejectedRequests rejected, DaemonParts parts,
        Action<int>? publishing = null, PlugTracer? plugs = null, PassResults? passes = null, RestoredClaims? restored = null)
    {
        _restored = restored;
        _passes = passes ?? new PassResults();
        ArgumentException.ThrowIfNullOrEmpty(source);
        _publishing = publishing;
        _plugs = plugs;
        Source = source;
        MaxRelays = maxRelays;
        _desired = desired;
        _statuses = statuses;
        _rejected = rejected;
        _parts = parts;
    }

    public string Source { get; }

    /// <summary>Relay ids are 0 .. MaxRelays - 1.</summary>
    public int MaxRelays { get; }

    /// <summary>
    /// Completes once the source has published what it found at start, or found that its peer
    /// is not there (it keeps trying): readiness waits for this, never for a peer.
    /// </summary>
    public Task Initialized => _initialized.Task;

    /// <summary>Raised when the outcome of claims may have changed: a refusal or a relay status (outside any lock).</summary>
    public event Action? OutcomeChanged
    {
        add
        {
            _desired.RefusalsChanged += value;
            _statuses.Changed += Relay(value);
        }

        remove
        {
            _desired.RefusalsChanged -= value;
            _statuses.Changed -= Relay(value);
        }
    }

    /// <summary>
    /// The claims this source had before the daemon restarted (from the state file), for a source
    /// whose input is gone once applied (port control, the file monitor) to take up again.
    /// </summary>
    public IReadOnlyList<RelayClaim> Restored => _restored?.Of(Source) ?? [];

    /// <summary>Replaces all of this source's claims at once and marks it initialized.</summary>
    /// <param name="inputAt">When the input behind this publish arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), if the source knows: plugs are traced from it.</param>
    public void Publish(IEnumerable<RelayClaim> claims, long? inputAt = null)
    {
        _publishing?.Invoke(Interlocked.Increment(ref _publishes));
        _desired.ReplaceClaims(Source, claims, inputAt);
        _parts.Synced(Source);
        _initialized.TrySetResult();
    }

    /// <summary>Replaces what this source refused from its input (bad rows, out-of-range ids).</summary>
    public void Reject(IEnumerable<RejectedRequest> rejected) => _rejected.Replace(Source, rejected);

    /// <summary>Says how the source is doing; a state other than Starting also marks it initialized (it has tried).</summary>
    public void Report(PartState state, string? detail = null)
    {
        _parts.Report(Source, state, detail);
        if (state is not PartState.Starting)
        {
            _initialized.TrySetResult();
        }
    }

    /// <summary>The source wrote a relay's new state to its own record (an OVSDB row), or had that acknowledged: the last steps of a plug's trace.</summary>
    public void RelayStateWritten(int relay, bool acknowledged) => _plugs?.Row(relay, acknowledged);

    /// <summary>An error the source recovers from by itself (a lost connection it retries).</summary>
    public void ReportError(string error) => _parts.Error(Source, error);

    /// <summary>Why one of this source's claims was refused, or null.</summary>
    public ClaimRefusal? RefusalOf(string key) => _desired.RefusalOf(Source, key);

    public DesiredRelay? Desired(int relay) => _desired.Get(relay);

    public IReadOnlyCollection<DesiredRelay> AllDesired() => _desired.All();

    public RelayStatus? Status(int relay) => _statuses.Get(relay);

    /// <summary>
    /// The first pass over the relay at its current desired generation (so after what this source
    /// just published), whether it succeeded or not, or null when none came within <paramref name="timeout"/>.
    /// </summary>
    public Task<PassResult?> WaitForPassAsync(int relay, TimeSpan timeout) => _passes.WaitForPassAsync(relay, _desired.GenerationOf(relay), timeout);

    // One wrapper per subscriber, found again by delegate equality (target and method), so a
    // remove with another instance of the same handler removes what the add stored.
    private readonly Dictionary<Action, Action<int>> _relayHandlers = [];

    private Action<int> Relay(Action? handler)
    {
        if (handler is null)
        {
            return _ => { };
        }

        lock (_relayHandlers)
        {
            if (!_relayHandlers.TryGetValue(handler, out Action<int>? wrapper))
            {
                _relayHandlers[handler] = wrapper = _ => handler();
            }

            return wrapper;
        }
    }
}
