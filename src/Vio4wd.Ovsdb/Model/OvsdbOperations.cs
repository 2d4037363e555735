using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

/// <summary>Transaction operations (RFC 7047 §5.2), built from typed arguments.</summary>
public static class OvsdbOperations
{
    /// <summary>
    /// Sets some keys of a map column of one row and removes others, leaving every other key as
    /// it is: deletes the keys, then inserts the ones that have a value (a map insert never
    /// overwrites an existing key, hence the delete first).
    /// </summary>
    /// <param name="keys">Each key and its new value; null removes the key.</param>
    public static JObject SetMapKeys(string table, string uuid, string column, IReadOnlyDictionary<string, string?> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new JObject
        {
            ["op"] = "mutate",
            ["table"] = table,
            ["where"] = new JArray { new JArray("_uuid", "==", new JArray("uuid", uuid)) },
            ["mutations"] = new JArray(
                new JArray(column, "delete", OvsdbDatum.ToSet(keys.Keys)),
                new JArray(column, "insert", OvsdbDatum.ToMap(keys.Where(k => k.Value is not null).Select(k => KeyValuePair.Create(k.Key, k.Value!))))),
        };
    }

    /// <summary>A monitor condition clause: <paramref name="column"/> is not the empty map.</summary>
    public static JArray MapNotEmpty(string column) => new JArray(column, "!=", OvsdbDatum.ToMap([]));
}
