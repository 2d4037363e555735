using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

/// <summary>
/// The client's copy of the monitored rows, kept by applying row changes. <c>update2</c>
/// modifications are diffs (ovsdb-server(7)): a map diff adds missing keys, removes keys given
/// with their current value and replaces the others; a set diff is a symmetric difference; any
/// other value replaces the old one.
/// </summary>
public sealed class OvsdbTableCache
{
    private readonly Dictionary<string, Dictionary<string, OvsdbRow>> _tables = new(StringComparer.Ordinal);

    public void Clear() => _tables.Clear();

    public void Apply(IEnumerable<RowChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (RowChange change in changes)
        {
            Apply(change);
        }
    }

    public OvsdbSnapshot Snapshot() =>
        new(_tables.ToDictionary(t => t.Key, t => (IReadOnlyDictionary<string, OvsdbRow>)new Dictionary<string, OvsdbRow>(t.Value), StringComparer.Ordinal));

    private void Apply(RowChange change)
    {
        if (!_tables.TryGetValue(change.Table, out Dictionary<string, OvsdbRow>? rows))
        {
            _tables[change.Table] = rows = new Dictionary<string, OvsdbRow>(StringComparer.Ordinal);
        }

        if (change.Kind == RowChangeKind.Delete)
        {
            rows.Remove(change.Uuid);
            return;
        }

        var columns = new Dictionary<string, JToken>(StringComparer.Ordinal);
        if (change.IsDiff && rows.TryGetValue(change.Uuid, out OvsdbRow? old))
        {
            foreach ((string name, JToken value) in old.Columns)
            {
                columns[name] = value;
            }

            foreach (JProperty diff in change.Columns.Properties())
            {
                columns[diff.Name] = columns.TryGetValue(diff.Name, out JToken? current) ? ApplyDiff(current, diff.Value) : diff.Value;
            }
        }
        else
        {
            foreach (JProperty column in change.Columns.Properties())
            {
                columns[column.Name] = column.Value;
            }
        }

        rows[change.Uuid] = new OvsdbRow(change.Table, change.Uuid, columns);
    }

    private static JToken ApplyDiff(JToken current, JToken diff)
    {
        if (Tagged(current, "map") is { } oldPairs && Tagged(diff, "map") is { } diffPairs)
        {
            var map = oldPairs.OfType<JArray>().ToDictionary(p => p[0].ToString(Newtonsoft.Json.Formatting.None), p => p, StringComparer.Ordinal);
            foreach (JArray pair in diffPairs.OfType<JArray>())
            {
                string key = pair[0].ToString(Newtonsoft.Json.Formatting.None);
                if (map.TryGetValue(key, out JArray? existing) && JToken.DeepEquals(existing[1], pair[1]))
                {
                    map.Remove(key);
                }
                else
                {
                    map[key] = pair;
                }
            }

            return new JArray("map", new JArray(map.Values));
        }

        if (Tagged(current, "set") is not null || Tagged(diff, "set") is not null)
        {
            List<JToken> items = Tagged(current, "set") is { } set ? [.. set] : [current];
            foreach (JToken item in Tagged(diff, "set") ?? [diff])
            {
                int at = items.FindIndex(i => JToken.DeepEquals(i, item));
                if (at >= 0)
                {
                    items.RemoveAt(at);
                }
                else
                {
                    items.Add(item);
                }
            }

            return new JArray("set", new JArray(items));
        }

        return diff;
    }

    private static JArray? Tagged(JToken value, string tag) =>
        value is JArray { Count: 2 } array && (string?)array[0] == tag && array[1] is JArray items ? items : null;
}
