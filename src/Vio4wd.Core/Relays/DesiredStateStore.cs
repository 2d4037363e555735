namespace Vio4wd.Core.Relays;

/// <summary>
/// The desired relays, as the providers (static config, OVSDB, ZMQ, file monitor) state them.
/// Each provider owns one slice and replaces it whole. Sources may complete each other (one
/// gives a relay its socket, another its device), but two sources asking for different things
/// on one relay, or for the same device, are a conflict: the source that claimed it first keeps
/// it, the other gets the conflict reported on the relay's status; nothing is resolved silently.
/// </summary>
public sealed class DesiredStateStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IReadOnlyList<RelaySpec>> _slices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _claimOrder = new(StringComparer.Ordinal);
    private readonly Dictionary<int, long> _generations = [];
    private readonly Dictionary<int, CpuPins> _pinOverrides = [];
    private Dictionary<int, DesiredRelay> _effective = [];
    private long _claims;

    /// <summary>Raised with the relay ids whose desired state changed (outside the lock).</summary>
    public event Action<IReadOnlyCollection<int>>? Changed;

    /// <summary>Replaces everything <paramref name="source"/> wants, at once.</summary>
    public void ReplaceSlice(string source, IEnumerable<RelaySpec> specs)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(specs);
        List<int> changed;
        lock (_lock)
        {
            _slices[source] = [.. specs];
            if (!_claimOrder.ContainsKey(source))
            {
                _claimOrder[source] = _claims++;
            }

            changed = Recompute();
        }

        if (changed.Count > 0)
        {
            Changed?.Invoke(changed);
        }
    }

    /// <summary>
    /// Pins set by an operator at run time (<c>vio4wdctl pin</c>): they take precedence over the
    /// pins any source asks for and outlive reloads; null returns the relay to its source's pins.
    /// </summary>
    public void SetPinOverride(int relayId, CpuPins? pins) => SetPinOverrides([(relayId, pins)]);

    /// <summary>Several relays' pins at once (a core scheduler's whole map): all or none is seen.</summary>
    public void SetPinOverrides(IReadOnlyCollection<(int RelayId, CpuPins? Pins)> pins)
    {
        ArgumentNullException.ThrowIfNull(pins);
        List<int> changed;
        lock (_lock)
        {
            foreach ((int relayId, CpuPins? relayPins) in pins)
            {
                if (relayPins is null)
                {
                    _pinOverrides.Remove(relayId);
                }
                else
                {
                    _pinOverrides[relayId] = relayPins;
                }
            }

            changed = Recompute();
        }

        if (changed.Count > 0)
        {
            Changed?.Invoke(changed);
        }
    }

    public DesiredRelay? Get(int relayId)
    {
        lock (_lock)
        {
            return _effective.GetValueOrDefault(relayId);
        }
    }

    public IReadOnlyCollection<DesiredRelay> All()
    {
        lock (_lock)
        {
            return [.. _effective.Values];
        }
    }

    private List<int> Recompute()
    {
        var next = new Dictionary<int, DesiredRelay>();
        var deviceOwner = new Dictionary<string, (string Source, int Relay)>(StringComparer.Ordinal);
        // Earlier claimers first, so a newcomer never takes a relay or a device away.
        foreach ((string source, IReadOnlyList<RelaySpec> specs) in _slices.OrderBy(s => _claimOrder[s.Key]))
        {
            foreach (RelaySpec spec in specs)
            {
                next.TryGetValue(spec.RelayId, out DesiredRelay? holder);
                string? conflict = spec.ClaimedDevices
                    .Where(deviceOwner.ContainsKey)
                    .Select(d => $"device {d} is already used by relay {deviceOwner[d].Relay} ({deviceOwner[d].Source})")
                    .FirstOrDefault();
                if (conflict is null && holder is not null && !Compatible(holder.Spec, spec))
                {
                    conflict = $"relay {spec.RelayId} is also requested by {source}";
                }

                if (conflict is not null)
                {
                    next[spec.RelayId] = holder is not null
                        ? holder with { Conflicts = [.. holder.Conflicts, conflict] }
                        : new DesiredRelay(spec with { Device = null }, source, 0, [conflict]);
                    continue;
                }

                foreach (string device in spec.ClaimedDevices)
                {
                    deviceOwner[device] = (source, spec.RelayId);
                }

                // One source's socket and another's device make one relay (e.g. a default
                // socket from the config and a VF from OVSDB); the device's source is shown.
                next[spec.RelayId] = holder is null
                    ? new DesiredRelay(spec, source, 0, [])
                    : holder with { Spec = Merge(holder.Spec, spec), Source = spec.Device is not null ? source : holder.Source };
            }
        }

        foreach ((int id, CpuPins pins) in _pinOverrides)
        {
            if (next.TryGetValue(id, out DesiredRelay? relay))
            {
                next[id] = relay with { Spec = relay.Spec with { Pins = pins } };
            }
        }

        var changed = new List<int>();
        foreach ((int id, DesiredRelay relay) in next.ToList())
        {
            DesiredRelay? before = _effective.GetValueOrDefault(id);
            bool same = before is not null && before.Spec == relay.Spec && before.Source == relay.Source
                && before.Conflicts.SequenceEqual(relay.Conflicts);
            if (!same)
            {
                _generations[id] = _generations.GetValueOrDefault(id) + 1;
                changed.Add(id);
            }

            next[id] = relay with { Generation = _generations[id] };
        }

        foreach (int gone in _effective.Keys.Where(id => !next.ContainsKey(id)))
        {
            // Generations keep counting across removal, so statuses never go backwards.
            _generations[gone]++;
            changed.Add(gone);
        }

        _effective = next;
        return changed;
    }

    // Specs that ask for different parts of a relay, or the same thing, can be one relay.
    private static bool Compatible(RelaySpec a, RelaySpec b) =>
        (a.Device is null || b.Device is null)
        && (a.Socket is null || b.Socket is null || a.Socket == b.Socket)
        && (a.Pins is null || b.Pins is null || a.Pins == b.Pins);

    private static RelaySpec Merge(RelaySpec a, RelaySpec b) => new(a.RelayId, a.Device ?? b.Device, a.Socket ?? b.Socket, a.Pins ?? b.Pins);
}

/// <summary>The spec in force for a relay, the source it came from, and what conflicts with it.</summary>
/// <param name="Generation">Grows by one whenever the spec, its source or its conflicts change.</param>
public sealed record DesiredRelay(RelaySpec Spec, string Source, long Generation, IReadOnlyList<string> Conflicts);
