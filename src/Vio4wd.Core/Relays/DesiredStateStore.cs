namespace Vio4wd.Core.Relays;

/// <summary>
/// What one source asks for one relay, under a key that names the asker within the source (an
/// OVSDB row's uuid, a port-control request's device): the key's claims keep their place in
/// line while it keeps asking for the same thing.
/// </summary>
/// <param name="Subject">What the operator knows the asker by, e.g. "interface eth100".</param>
/// <param name="Name">What the source itself calls the asker (a bond's name, a netdev), kept with the claim so a restarted daemon has it back.</param>
public sealed record RelayClaim(string Key, string Subject, RelaySpec Spec, string? Name = null)
{
    /// <summary>A claim keyed by its relay id, for sources with one claim per relay.</summary>
    public static RelayClaim ForRelay(RelaySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new RelayClaim($"relay {spec.RelayId}", $"relay {spec.RelayId}", spec);
    }
}

/// <summary>A claim the store granted its place in line: the <paramref name="Order"/> decides collisions (lower is earlier).</summary>
public sealed record HeldClaim(string Source, RelayClaim Claim, long Order);

/// <summary>A claim that lost to an earlier one, and why.</summary>
public sealed record ClaimRefusal(string Source, string Key, string Subject, int RelayId, string Reason);

/// <summary>
/// The desired relays, as the sources (static config, OVSDB, ZMQ, file monitor) state them.
/// Each source owns one slice and replaces it whole. Sources may complete each other (one gives
/// a relay its socket, another its device), but two claims asking for different things on one
/// relay, or for the same device, collide: the claim made first keeps it, whatever its source or
/// name, and the later one is refused with a reason (<see cref="Refusals"/>) and changes nothing.
/// A claim that keeps asking for what it holds keeps it; a claim that changes joins the end of
/// the line, so no change can take a running relay away from another asker.
/// </summary>
public sealed class DesiredStateStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IReadOnlyList<RelayClaim>> _slices = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Source, string Key), Held> _held = [];
    private readonly Dictionary<int, long> _generations = [];
    private readonly Dictionary<int, CpuPins> _pinOverrides = [];
    private readonly Dictionary<(string Source, string Key), HeldClaim> _restored = [];
    private Dictionary<int, DesiredRelay> _effective = [];
    private IReadOnlyList<ClaimRefusal> _refusals = [];
    private long _claims;

    /// <summary>When a claim joined the line, and what it asked for then.</summary>
    private sealed record Held(long Order, RelaySpec Spec);

    /// <summary>Raised with the relay ids whose desired state changed and what changed it (outside the lock).</summary>
    public event Action<DesiredChange>? Changed;

    /// <summary>Raised after the refused claims changed (outside the lock).</summary>
    public event Action? RefusalsChanged;

    /// <summary>
    /// Every claim of every source with its place in line, as a restarted daemon needs them back
    /// (<see cref="RestoreOrder"/>): the claims only the daemon remembers (port control, the file
    /// monitor) and who was first for the others. A source that has not published since the
    /// restart still has what was restored for it.
    /// </summary>
    public IReadOnlyList<HeldClaim> HeldClaims()
    {
        lock (_lock)
        {
            var held = new List<HeldClaim>();
            var taken = new HashSet<(string, string)>();
            foreach ((string source, IReadOnlyList<RelayClaim> claims) in _slices)
            {
                foreach (RelayClaim claim in claims)
                {
                    // A key claims once; its first claim counts (as in Recompute).
                    if (_held.TryGetValue((source, claim.Key), out Held? place) && place.Spec == claim.Spec && taken.Add((source, claim.Key)))
                    {
                        held.Add(new HeldClaim(source, claim, place.Order));
                    }
                }
            }

            held.AddRange(_restored.Values.Where(h => !_slices.ContainsKey(h.Source)));
            return [.. held.OrderBy(h => h.Order)];
        }
    }

    /// <summary>
    /// Gives claims their place in line from before a restart: a claim a source asks for again,
    /// unchanged, gets its old place instead of the end of the line, so a running VM's relay is
    /// not lost to a claim that came later. Each source's restored places stand until its first
    /// publish, which confirms or drops them. Call before any source publishes.
    /// </summary>
    public void RestoreOrder(IEnumerable<HeldClaim> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        lock (_lock)
        {
            foreach (HeldClaim claim in held)
            {
                _restored[(claim.Source, claim.Claim.Key)] = claim;
                _claims = Math.Max(_claims, claim.Order + 1);
            }
        }
    }

    /// <summary>Replaces everything <paramref name="source"/> wants, at once, one claim per relay.</summary>
    public void ReplaceSlice(string source, IEnumerable<RelaySpec> specs, long? inputAt = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ReplaceClaims(source, specs.Select(RelayClaim.ForRelay), inputAt);
    }

    /// <summary>Replaces everything <paramref name="source"/> wants, at once; claims new to the store join the line in the order given.</summary>
    /// <param name="inputAt">When the input that asked for it arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), if known.</param>
    public void ReplaceClaims(string source, IEnumerable<RelayClaim> claims, long? inputAt = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(claims);
        Apply(() => _slices[source] = [.. claims], source, inputAt);
        lock (_lock)
        {
            // The source has spoken: its places from before a restart are kept or gone by now.
            foreach ((string, string) restored in _restored.Keys.Where(k => k.Source == source).ToList())
            {
                _restored.Remove(restored);
            }
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
        Apply(
            () =>
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
            },
            "pins",
            null);
    }

    public DesiredRelay? Get(int relayId)
    {
        lock (_lock)
        {
            return _effective.GetValueOrDefault(relayId);
        }
    }

    /// <summary>
    /// The relay's spec in force (null: none) and its generation, read together: the generation
    /// also counts removals, so a pass over a relay that is no longer wanted has one to report.
    /// </summary>
    public (DesiredRelay? Relay, long Generation) Snapshot(int relayId)
    {
        lock (_lock)
        {
            return (_effective.GetValueOrDefault(relayId), _generations.GetValueOrDefault(relayId));
        }
    }

    /// <summary>The relay's generation, counting removals (0: nothing was ever asked of it).</summary>
    public long GenerationOf(int relayId) => Snapshot(relayId).Generation;

    public IReadOnlyCollection<DesiredRelay> All()
    {
        lock (_lock)
        {
            return [.. _effective.Values];
        }
    }

    /// <summary>Every claim that lost to an earlier one.</summary>
    public IReadOnlyList<ClaimRefusal> Refusals
    {
        get
        {
            lock (_lock)
            {
                return _refusals;
            }
        }
    }

    /// <summary>Why a source's claim was refused, or null when it holds (or is unknown).</summary>
    public ClaimRefusal? RefusalOf(string source, string key)
    {
        lock (_lock)
        {
            return _refusals.FirstOrDefault(r => r.Source == source && r.Key == key);
        }
    }

    private void Apply(Action change, string cause, long? inputAt)
    {
        List<int> changed;
        bool refusalsChanged;
        lock (_lock)
        {
            change();
            IReadOnlyList<ClaimRefusal> before = _refusals;
            changed = Recompute();
            refusalsChanged = !before.SequenceEqual(_refusals);
        }

        if (changed.Count > 0)
        {
            Changed?.Invoke(new DesiredChange(changed, cause, inputAt));
        }

        if (refusalsChanged)
        {
            RefusalsChanged?.Invoke();
        }
    }

    private List<int> Recompute()
    {
        // A claim keeps its place while it asks for the same thing; a new or changed claim goes
        // to the end of the line (in the order its source listed it).
        var line = new List<(string Source, RelayClaim Claim, long Order)>();
        var present = new HashSet<(string, string)>();
        foreach ((string source, IReadOnlyList<RelayClaim> claims) in _slices)
        {
            foreach (RelayClaim claim in claims)
            {
                var key = (source, claim.Key);
                if (!present.Add(key))
                {
                    continue; // a key claims once; its first claim counts
                }

                if (!_held.TryGetValue(key, out Held? held) || held.Spec != claim.Spec)
                {
                    held = _restored.TryGetValue(key, out HeldClaim? before) && before.Claim.Spec == claim.Spec ? new Held(before.Order, claim.Spec) : new Held(_claims++, claim.Spec);
                    _held[key] = held;
                }

                line.Add((source, claim, held.Order));
            }
        }

        foreach ((string, string) gone in _held.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _held.Remove(gone);
        }

        var next = new Dictionary<int, DesiredRelay>();
        var relayOwner = new Dictionary<int, string>();
        var deviceOwner = new Dictionary<string, (string Who, int Relay)>(StringComparer.Ordinal);
        var refusals = new List<ClaimRefusal>();
        foreach ((string source, RelayClaim claim, long _) in line.OrderBy(c => c.Order))
        {
            RelaySpec spec = claim.Spec;
            string who = $"{claim.Subject} ({source})";
            next.TryGetValue(spec.RelayId, out DesiredRelay? holder);
            string? conflict = spec.ClaimedDevices
                .Where(d => deviceOwner.TryGetValue(d, out var owner) && (owner.Relay != spec.RelayId || holder is null || !Compatible(holder.Spec, spec)))
                .Select(d => $"device {d} is already used by relay {deviceOwner[d].Relay}: {deviceOwner[d].Who}")
                .FirstOrDefault();
            if (conflict is null && holder is not null && !Compatible(holder.Spec, spec))
            {
                conflict = $"relay {spec.RelayId} is already used by {relayOwner[spec.RelayId]}";
            }

            if (conflict is not null)
            {
                refusals.Add(new ClaimRefusal(source, claim.Key, claim.Subject, spec.RelayId, conflict));
                continue;
            }

            foreach (string device in spec.ClaimedDevices)
            {
                deviceOwner[device] = (who, spec.RelayId);
            }

            // One source's socket and another's device make one relay (e.g. a default
            // socket from the config and a VF from OVSDB); the device's source is shown.
            if (holder is null || spec.Device is not null)
            {
                relayOwner[spec.RelayId] = who;
            }

            next[spec.RelayId] = holder is null
                ? new DesiredRelay(spec, source, 0)
                : holder with { Spec = Merge(holder.Spec, spec), Source = spec.Device is not null ? source : holder.Source };
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
            if (before is null || before.Spec != relay.Spec || before.Source != relay.Source)
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
        _refusals = refusals;
        return changed;
    }

    // Specs that ask for different parts of a relay, or the same thing, can be one relay.
    private static bool Compatible(RelaySpec a, RelaySpec b) =>
        (a.Device is null || b.Device is null || RelaySpec.SameDevice(a.Device, b.Device))
        && (a.Socket is null || b.Socket is null || a.Socket == b.Socket)
        && (a.Pins is null || b.Pins is null || a.Pins == b.Pins);

    private static RelaySpec Merge(RelaySpec a, RelaySpec b) => new(a.RelayId, a.Device ?? b.Device, a.Socket ?? b.Socket, a.Pins ?? b.Pins);
}

/// <summary>The spec in force for a relay and the source it came from.</summary>
/// <param name="Generation">Grows by one whenever the spec or its source changes.</param>
public sealed record DesiredRelay(RelaySpec Spec, string Source, long Generation);

/// <summary>Relays whose desired state changed, what changed it (a source, or "pins") and when its input arrived, if known.</summary>
public sealed record DesiredChange(IReadOnlyCollection<int> Relays, string Cause, long? InputAt);
