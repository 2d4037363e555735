using Newtonsoft.Json.Linq;

namespace Vio4wd.Ovsdb.Model;

/// <summary>
/// Which rows and columns of a table to monitor. <paramref name="Where"/> is a monitor_cond
/// condition (clauses are ORed); servers without monitor_cond get every row.
/// </summary>
public sealed record MonitorRequest(string Table, IReadOnlyList<string> Columns, JArray? Where = null)
{
    internal JObject ToJson(bool conditional)
    {
        var request = new JObject { ["columns"] = new JArray(Columns) };
        if (conditional && Where is not null)
        {
            request["where"] = Where.DeepClone();
        }

        return request;
    }
}
