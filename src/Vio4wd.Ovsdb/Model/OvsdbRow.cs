using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

/// <summary>A row as the monitor last saw it: its monitored columns in OVSDB's JSON encoding.</summary>
public sealed record OvsdbRow(string Table, string Uuid, IReadOnlyDictionary<string, JToken> Columns)
{
    public string? Text(string column) => Columns.TryGetValue(column, out JToken? v) && v is JValue { Value: string s } ? s : null;

    public IReadOnlyDictionary<string, string> Map(string column) => OvsdbDatum.Map(Columns.GetValueOrDefault(column));
}

/// <summary>Every monitored row, by table and uuid, at one moment.</summary>
public sealed record OvsdbSnapshot(IReadOnlyDictionary<string, IReadOnlyDictionary<string, OvsdbRow>> Tables)
{
    /// <summary>When the first update it holds arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp); null for the initial rows.</summary>
    public long? ReceivedAt { get; init; }

    public IEnumerable<OvsdbRow> Rows(string table) =>
        Tables.TryGetValue(table, out IReadOnlyDictionary<string, OvsdbRow>? rows) ? rows.Values : [];
}
