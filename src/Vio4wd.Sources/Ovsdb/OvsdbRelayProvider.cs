using System.Globalization;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Sources.Netdev;

namespace Vio4wd.Sources.Ovsdb;

/// <summary>What the provider made of one flagged Interface: its relay, or why it has none.</summary>
public sealed record InterfaceVerdict(OvsdbInterface Interface, int? RelayId, string? Device, string? Error);

/// <summary>
/// The relays OVSDB asks for. An Interface is relayed when its external_ids have
/// <c>virtio_forwarder</c> (or <c>virtio_relay</c>) set to an integer, any integer, as the
/// original read it (its value is not the relay id). The VF and relay id come from
/// <c>virtio_forwarder_dev</c> (a PCI address; a DPDK device string only when the operator
/// allowed runtime devargs) and
/// <c>virtio_forwarder_relay</c> when set, else from the netdev (<see cref="NetdevResolver"/>).
/// A row that cannot be relayed gets a verdict with the reason and takes nothing from others.
/// </summary>
public sealed class OvsdbRelayProvider(
    NetdevResolver resolver,
    int maxRelays,
    Func<int, VhostSocketSpec?> socketOf,
    Func<int, CpuPins?> pinsOf,
    bool allowDevargs = false)
{
    public const string Source = "ovsdb";
    public const string DeviceKey = "virtio_forwarder_dev";
    public const string RelayKey = "virtio_forwarder_relay";
    private static readonly string[] FlagKeys = ["virtio_forwarder", "virtio_relay"];

    /// <summary>Whether the row asks to be relayed (well-formed or not).</summary>
    public static bool IsFlagged(OvsdbInterface row) => FlagKeys.Any(k => row?.ExternalIds.ContainsKey(k) == true);

    /// <summary>
    /// A claim for every relayable row (keyed by the row's uuid, so a rename keeps its place),
    /// and a verdict for every flagged row. Two rows asking for one relay or one device are not
    /// decided here: the desired-state store gives it to the earlier claim.
    /// </summary>
    public (IReadOnlyList<RelayClaim> Claims, IReadOnlyList<InterfaceVerdict> Verdicts) Evaluate(IEnumerable<OvsdbInterface> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var claims = new List<RelayClaim>();
        var verdicts = new List<InterfaceVerdict>();
        // Rows new in one snapshot join the line by name, so a restart gives the same winners.
        foreach (OvsdbInterface row in rows.Where(IsFlagged).OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Uuid, StringComparer.Ordinal))
        {
            (DeviceAttachment? device, int? relay, string? error) = Resolve(row);
            verdicts.Add(new InterfaceVerdict(row, relay, device?.Devices[0], error));
            if (error is null)
            {
                claims.Add(new RelayClaim(row.Uuid, $"interface {row.Name}",
                    new RelaySpec(relay!.Value, device!, socketOf(relay.Value), pinsOf(relay.Value))));
            }
        }

        return (claims, verdicts);
    }

    private (DeviceAttachment? Device, int? Relay, string? Error) Resolve(OvsdbInterface row)
    {
        string key = FlagKeys.First(row.ExternalIds.ContainsKey);
        if (!TryParseInteger(row.ExternalIds[key], out _))
        {
            return (null, null, $"external_ids:{key}='{row.ExternalIds[key]}' is not an integer");
        }

        DeviceAttachment? device;
        int relay;
        bool explicitDevice = row.ExternalIds.TryGetValue(DeviceKey, out string? deviceText);
        bool explicitRelay = row.ExternalIds.TryGetValue(RelayKey, out string? relayText);
        if (explicitDevice || explicitRelay)
        {
            if (!explicitDevice || !explicitRelay)
            {
                return (null, null, $"external_ids:{DeviceKey} and {RelayKey} go together; only {(explicitDevice ? DeviceKey : RelayKey)} is set");
            }

            device = DeviceAttachment.Parse(deviceText!, out string deviceError);
            if ((device is null ? deviceError : device.RuntimeRefusal(allowDevargs)) is { } refusal)
            {
                return (null, null, $"external_ids:{DeviceKey}='{deviceText}': {refusal}");
            }

            if (!TryParseInteger(relayText!, out long id) || id < 0 || id > int.MaxValue)
            {
                return (device, null, $"external_ids:{RelayKey}='{relayText}' is not a relay id");
            }

            relay = (int)id;
        }
        else
        {
            ResolvedVf? vf = resolver.Resolve(row.Name, out string resolveError);
            if (vf is null)
            {
                return (null, null, resolveError);
            }

            (device, relay) = (vf.Device, vf.RelayId);
        }

        return relay >= maxRelays
            ? (device, relay, $"relay {relay} is out of range (relays are 0..{maxRelays - 1})")
            : (device, relay, null);
    }

    /// <summary>An integer as C's strtol with base 0 reads it: decimal, 0x hex or 0 octal, nothing after it.</summary>
    internal static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        string s = text.Trim();
        bool negative = s.StartsWith('-');
        if (negative || s.StartsWith('+'))
        {
            s = s[1..];
        }

        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? s.Length > 2 && long.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : s.Length > 1 && s.StartsWith('0')
                ? s.All(c => c is >= '0' and <= '7') && TryOctal(s, out value)
                : s.Length > 0 && s.All(char.IsAsciiDigit) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        value = negative ? -value : value;
        return ok;
    }

    private static bool TryOctal(string digits, out long value)
    {
        value = 0;
        foreach (char c in digits)
        {
            if (value > (long.MaxValue >> 3))
            {
                return false;
            }

            value = (value << 3) + (c - '0');
        }

        return true;
    }
}
