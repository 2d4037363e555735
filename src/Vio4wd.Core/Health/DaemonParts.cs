namespace Vio4wd.Core.Health;

/// <summary>Where a long-running part of the daemon stands.</summary>
public enum PartState
{
    Starting,

    /// <summary>Trying to reach its peer (an OVSDB server, say); retries on its own.</summary>
    Connecting,

    /// <summary>In sync with its peer.</summary>
    Connected,

    /// <summary>Listening for requests.</summary>
    Serving,

    /// <summary>Doing its work (the reconciler, the event pump).</summary>
    Running,

    /// <summary>Failed; the host restarts it after a backoff.</summary>
    Faulted,

    Stopped,
}

/// <summary>One part as operators see it.</summary>
/// <param name="Kind">"source", "service" or "core".</param>
/// <param name="Detail">What it is connected to or serving, e.g. an endpoint.</param>
public sealed record PartStatus(
    string Name,
    string Kind,
    PartState State,
    DateTimeOffset Since,
    string? Detail,
    string? LastError,
    DateTimeOffset? LastErrorTime,
    int Restarts)
{
    /// <summary>When a source last published its whole slice (null: never, or not a source).</summary>
    public DateTimeOffset? LastSync { get; init; }
}

/// <summary>
/// The state of every long-running part (sources, the reconciler, the servers): what
/// <c>vio4wdctl daemon</c> shows and what readiness is judged on.
/// </summary>
public sealed class DaemonParts(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, PartStatus> _parts = new(StringComparer.Ordinal);

    /// <summary>Raised with the part's name after its state changed (outside the lock).</summary>
    public event Action<string>? Changed;

    public void Register(string name, string kind)
    {
        lock (_lock)
        {
            _parts.TryAdd(name, new PartStatus(name, kind, PartState.Starting, _time.GetUtcNow(), null, null, null, 0));
        }
    }

    /// <summary>Records a new state; its time moves only when the state changes.</summary>
    public void Report(string name, PartState state, string? detail = null) =>
        Update(name, p => p with
        {
            State = state,
            Since = p.State == state ? p.Since : _time.GetUtcNow(),
            Detail = detail ?? p.Detail,
        });

    /// <summary>Records a failure: the part is Faulted until it reports again.</summary>
    public void Faulted(string name, string error) =>
        Update(name, p => p with
        {
            State = PartState.Faulted,
            Since = p.State == PartState.Faulted ? p.Since : _time.GetUtcNow(),
            LastError = error,
            LastErrorTime = _time.GetUtcNow(),
        });

    /// <summary>Records an error the part recovers from by itself (it keeps its state).</summary>
    public void Error(string name, string error) =>
        Update(name, p => p with { LastError = error, LastErrorTime = _time.GetUtcNow() });

    /// <summary>Records that a source published its claims in full.</summary>
    public void Synced(string name) => Update(name, p => p with { LastSync = _time.GetUtcNow() });

    public void Restarted(string name) => Update(name, p => p with { Restarts = p.Restarts + 1 });

    public PartStatus? Get(string name)
    {
        lock (_lock)
        {
            return _parts.GetValueOrDefault(name);
        }
    }

    public IReadOnlyList<PartStatus> All()
    {
        lock (_lock)
        {
            return [.. _parts.Values];
        }
    }

    private void Update(string name, Func<PartStatus, PartStatus> change)
    {
        lock (_lock)
        {
            PartStatus current = _parts.GetValueOrDefault(name) ?? new PartStatus(name, "part", PartState.Starting, _time.GetUtcNow(), null, null, null, 0);
            _parts[name] = change(current);
        }

        Changed?.Invoke(name);
    }
}
