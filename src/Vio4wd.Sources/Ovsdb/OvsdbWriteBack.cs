using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Sources.Ovsdb;

/// <summary>The keys the daemon keeps up to date in one Interface row's external_ids (null: remove the key).</summary>
public sealed record RowWriteBack(string Uuid, string Name, IReadOnlyDictionary<string, string?> Keys);

/// <summary>
/// What each Interface row should say about its relay, so <c>ovs-vsctl list interface</c> tells
/// the operator what happened: <c>virtio_forwarder_state</c> (<c>ready</c>, <c>pending</c> or
/// <c>error: reason</c>), the socket to give the VM and the relay id. Only rows whose keys differ
/// from what they hold are returned, so writing is idempotent and our own updates cause no more
/// writes. Rows no longer flagged lose the keys. (The relay id goes to
/// <c>virtio_forwarder_relay_id</c>: <c>virtio_forwarder_relay</c> is the operator's input.)
/// </summary>
public static class OvsdbWriteBack
{
    public const string StateKey = "virtio_forwarder_state";
    public const string SocketKey = "virtio_forwarder_socket";
    public const string RelayIdKey = "virtio_forwarder_relay_id";

    public static readonly IReadOnlyList<string> ManagedKeys = [StateKey, SocketKey, RelayIdKey];

    /// <param name="refusalOf">Why the row's claim lost to an earlier one (by row uuid), or null.</param>
    public static IReadOnlyList<RowWriteBack> Changes(IEnumerable<OvsdbInterface> rows, IReadOnlyList<InterfaceVerdict> verdicts, Func<int, RelayStatus?> statusOf, Func<string, string?> refusalOf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(verdicts);
        ArgumentNullException.ThrowIfNull(statusOf);
        ArgumentNullException.ThrowIfNull(refusalOf);
        Dictionary<string, InterfaceVerdict> byUuid = verdicts.ToDictionary(v => v.Interface.Uuid, StringComparer.Ordinal);
        var changes = new List<RowWriteBack>();
        foreach (OvsdbInterface row in rows)
        {
            Dictionary<string, string?> want = byUuid.TryGetValue(row.Uuid, out InterfaceVerdict? verdict)
                ? Wanted(verdict.Error is null && refusalOf(row.Uuid) is { } refused ? verdict with { Error = refused } : verdict, statusOf)
                : ManagedKeys.ToDictionary(k => k, _ => (string?)null);
            if (want.Any(k => row.ExternalIds.GetValueOrDefault(k.Key) != k.Value))
            {
                changes.Add(new RowWriteBack(row.Uuid, row.Name, want));
            }
        }

        return changes;
    }

    /// <summary>The relay a change reports Ready, or null (a change of another kind).</summary>
    public static int? ReadyRelay(RowWriteBack change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return change.Keys.GetValueOrDefault(StateKey) == "ready"
            && int.TryParse(change.Keys.GetValueOrDefault(RelayIdKey), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int relay)
            ? relay : null;
    }

    /// <summary>The state a flagged row should show: its verdict's error, else its relay's readiness.</summary>
    public static string StateOf(InterfaceVerdict verdict, RelayStatus? status)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Error is { } error)
        {
            return $"error: {error}";
        }

        Condition? ready = status?.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Ready);
        return status is null || ready is null ? "pending"
            : ready.Status == "True" ? "ready"
            : ready.Reason is "Error" ? $"error: {ready.Message}"
            : "pending";
    }

    private static Dictionary<string, string?> Wanted(InterfaceVerdict verdict, Func<int, RelayStatus?> statusOf)
    {
        RelayStatus? status = verdict.Error is null && verdict.RelayId is { } id ? statusOf(id) : null;
        return new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [StateKey] = StateOf(verdict, status),
            [SocketKey] = verdict.Error is null ? status?.Spec?.Socket?.Path : null,
            [RelayIdKey] = verdict.Error is null ? verdict.RelayId?.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
        };
    }
}
