using System.Globalization;
using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

/// <summary>Reading OVSDB's JSON encoding of values (RFC 7047 §5.1): atoms, <c>["set", ...]</c>, <c>["map", ...]</c>, <c>["uuid", ...]</c>.</summary>
public static class OvsdbDatum
{
    /// <summary>A map column as strings (keys and values of any atomic type).</summary>
    public static IReadOnlyDictionary<string, string> Map(JToken? datum)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (datum is JArray { Count: 2 } array && (string?)array[0] == "map" && array[1] is JArray pairs)
        {
            foreach (JArray pair in pairs.OfType<JArray>().Where(p => p.Count == 2))
            {
                map[Atom(pair[0])] = Atom(pair[1]);
            }
        }

        return map;
    }

    /// <summary>An atom as a string: strings as they are, numbers and booleans invariant, uuids as their text.</summary>
    public static string Atom(JToken atom) => atom switch
    {
        JArray { Count: 2 } tagged when (string?)tagged[0] is "uuid" or "named-uuid" => (string?)tagged[1] ?? string.Empty,
        JValue { Value: string s } => s,
        JValue { Value: bool b } => b ? "true" : "false",
        JValue value => Convert.ToString(value.Value, CultureInfo.InvariantCulture) ?? string.Empty,
        _ => atom.ToString(Newtonsoft.Json.Formatting.None),
    };

    /// <summary>The <c>["map", [[k, v], ...]]</c> encoding of string pairs.</summary>
    public static JArray ToMap(IEnumerable<KeyValuePair<string, string>> pairs) =>
        new("map", new JArray(pairs.Select(p => new JArray(p.Key, p.Value))));

    /// <summary>The <c>["set", [...]]</c> encoding of strings.</summary>
    public static JArray ToSet(IEnumerable<string> items) => new("set", new JArray(items));
}
