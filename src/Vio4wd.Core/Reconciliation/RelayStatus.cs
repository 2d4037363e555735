using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Reconciliation;

/// <summary>A status condition in the Kubernetes shape.</summary>
/// <param name="Status">"True", "False" or "Unknown".</param>
public sealed record Condition(string Type, string Status, string Reason, string Message, DateTimeOffset LastTransitionTime, long ObservedGeneration);

/// <summary>Something that happened to a relay, for the operator.</summary>
/// <param name="Type">"Normal" or "Warning", as Kubernetes events.</param>
public sealed record RelayEvent(DateTimeOffset Time, string Type, string Reason, string Message);

/// <summary>What the control plane knows about one relay: spec, conditions, history and live state.</summary>
public sealed record RelayStatus
{
    public const int EventHistory = 10;

    public required int Id { get; init; }

    /// <summary>When the control plane first saw the relay (its age).</summary>
    public DateTimeOffset Created { get; init; }

    public string? Source { get; init; }

    public RelaySpec? Spec { get; init; }

    public long Generation { get; init; }

    public long ObservedGeneration { get; init; }

    public IReadOnlyList<Condition> Conditions { get; init; } = [];

    public string? LastError { get; init; }

    public IReadOnlyList<RelayEvent> Events { get; init; } = [];

    public RelayState? Live { get; init; }

    public bool Ready => Conditions.Any(c => c.Type == ConditionTypes.Ready && c.Status == "True");

    public RelayStatus WithEvent(RelayEvent e) => this with { Events = [.. Events.TakeLast(EventHistory - 1), e] };

    /// <summary>Sets a condition; its transition time moves only when its status changes.</summary>
    public RelayStatus WithCondition(string type, bool? status, string reason, string message, DateTimeOffset now)
    {
        string value = status switch { true => "True", false => "False", null => "Unknown" };
        Condition? old = Conditions.FirstOrDefault(c => c.Type == type);
        DateTimeOffset since = old is not null && old.Status == value ? old.LastTransitionTime : now;
        var updated = new Condition(type, value, reason, message, since, Generation);
        return this with { Conditions = [.. Conditions.Where(c => c.Type != type), updated] };
    }
}

public static class ConditionTypes
{
    public const string DeviceReady = "DeviceReady";
    public const string VhostConnected = "VhostConnected";
    public const string Ready = "Ready";
}

/// <summary>The statuses of all relays the control plane has seen.</summary>
public sealed class RelayStatusStore(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, RelayStatus> _statuses = [];

    /// <summary>Raised with the relay id after its status changed or went away (outside the lock).</summary>
    public event Action<int>? Changed;

    public RelayStatus? Get(int id)
    {
        lock (_lock)
        {
            return _statuses.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<RelayStatus> All()
    {
        lock (_lock)
        {
            return [.. _statuses.Values.OrderBy(s => s.Id)];
        }
    }

    public RelayStatus Update(int id, Func<RelayStatus, RelayStatus> change)
    {
        RelayStatus next;
        lock (_lock)
        {
            next = change(_statuses.GetValueOrDefault(id) ?? new RelayStatus { Id = id, Created = _time.GetUtcNow() });
            _statuses[id] = next;
        }

        Changed?.Invoke(id);
        return next;
    }

    public void Remove(int id)
    {
        lock (_lock)
        {
            _statuses.Remove(id);
        }

        Changed?.Invoke(id);
    }
}
