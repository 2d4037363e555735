using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Core.Relays;

/// <summary>
/// The requests each provider had to refuse (a bad OVSDB row, a static VF out of range), so
/// operators see them in <c>vio4wdctl status</c> next to the relays. Replaced per source.
/// </summary>
public sealed class RejectedRequests
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IReadOnlyList<RejectedRequest>> _bySource = new(StringComparer.Ordinal);

    public void Replace(string source, IEnumerable<RejectedRequest> rejected)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        lock (_lock)
        {
            _bySource[source] = [.. rejected];
        }
    }

    public IReadOnlyList<RejectedRequest> All()
    {
        lock (_lock)
        {
            return [.. _bySource.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => s.Value)];
        }
    }
}
