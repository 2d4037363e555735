using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

public enum RowChangeKind
{
    /// <summary>The row existed when the monitor started.</summary>
    Initial,
    Insert,
    Modify,
    Delete,
}

/// <summary>
/// One row's change in a monitor reply or notification. For <see cref="RowChangeKind.Modify"/>
/// from <c>update2</c>, <see cref="Columns"/> is a diff (<see cref="IsDiff"/>); otherwise it holds
/// the row's monitored columns (none for a delete).
/// </summary>
public sealed record RowChange(string Table, string Uuid, RowChangeKind Kind, JObject Columns, bool IsDiff);

/// <summary>Parses both notification formats into <see cref="RowChange"/>s.</summary>
public static class TableUpdates
{
    /// <summary><c>update2</c> and monitor_cond replies: <c>{table: {uuid: {initial|insert|modify|delete: ...}}}</c>.</summary>
    public static IReadOnlyList<RowChange> ParseUpdate2(JToken updates) =>
        [.. Rows(updates).Select(r =>
        {
            JProperty change = ((JObject)r.Value).Properties().Single();
            RowChangeKind kind = change.Name switch
            {
                "initial" => RowChangeKind.Initial,
                "insert" => RowChangeKind.Insert,
                "modify" => RowChangeKind.Modify,
                "delete" => RowChangeKind.Delete,
                _ => throw new OvsdbException($"unknown row update '{change.Name}'"),
            };
            return new RowChange(r.Table, r.Uuid, kind, change.Value as JObject ?? [], kind == RowChangeKind.Modify);
        })];

    /// <summary><c>update</c> and monitor replies: <c>{table: {uuid: {old?: ..., new?: ...}}}</c>.</summary>
    public static IReadOnlyList<RowChange> ParseUpdate(JToken updates, bool initial) =>
        [.. Rows(updates).Select(r =>
        {
            var row = (JObject)r.Value;
            JObject? next = row["new"] as JObject;
            RowChangeKind kind = next is null ? RowChangeKind.Delete
                : initial ? RowChangeKind.Initial
                : row["old"] is JObject ? RowChangeKind.Modify
                : RowChangeKind.Insert;
            return new RowChange(r.Table, r.Uuid, kind, next ?? [], IsDiff: false);
        })];

    private static IEnumerable<(string Table, string Uuid, JToken Value)> Rows(JToken updates) =>
        updates is not JObject tables ? []
        : tables.Properties().SelectMany(table => table.Value is JObject rows
            ? rows.Properties().Select(row => (table.Name, row.Name, row.Value))
            : []);
}
