using Vio4wd.Configuration;
using Vio4wd.Core.Relays;

namespace Vio4wd.Sources.Config;

/// <summary>
/// What a reload changes, in the operator's words: relays added, removed or changed (applied at
/// once), and other settings whose new value waits for a restart (the EAL, the workers and the
/// servers were started with the old one).
/// </summary>
public static class ConfigChanges
{
    // What the static source's relays are made of; a reload applies these.
    private static readonly HashSet<SettingKey> AppliedAtReload =
    [
        SettingKey.StaticVfs, SettingKey.CpuPins, SettingKey.DynamicSockets, SettingKey.SocketDir, SettingKey.SocketPattern, SettingKey.VhostClient,
    ];

    public static IReadOnlyList<string> Describe(LoadedConfiguration before, LoadedConfiguration after, int maxRelays)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<string>();
        Dictionary<int, RelaySpec> old = StaticConfigSource.SpecsOf(before.Options!, maxRelays).ToDictionary(s => s.RelayId);
        Dictionary<int, RelaySpec> now = StaticConfigSource.SpecsOf(after.Options!, maxRelays).ToDictionary(s => s.RelayId);
        foreach (int id in old.Keys.Union(now.Keys).Order())
        {
            RelaySpec? was = old.GetValueOrDefault(id);
            RelaySpec? @is = now.GetValueOrDefault(id);
            if (was is null)
            {
                changes.Add($"relay {id}: added ({Describe(@is!)})");
            }
            else if (@is is null)
            {
                changes.Add($"relay {id}: removed");
            }
            else if (!was.Equals(@is))
            {
                changes.Add($"relay {id}: {Describe(was)} -> {Describe(@is)}");
            }
        }

        foreach (SettingDefinition setting in SettingCatalog.All.Where(s => s.Variable is not null && !AppliedAtReload.Contains(s.Key)))
        {
            string was = ValueOf(before, setting.Key);
            string @is = ValueOf(after, setting.Key);
            if (was != @is)
            {
                changes.Add($"{setting.Variable}: \"{was}\" -> \"{@is}\" takes effect at the next restart");
            }
        }

        return changes;
    }

    private static string ValueOf(LoadedConfiguration config, SettingKey key) =>
        config.Raw.TryGetValue(key, out RawSetting? raw) ? string.Join(' ', raw.Values) : string.Empty;

    private static string Describe(RelaySpec spec) => string.Join(", ", new[]
    {
        spec.Device is { } device ? $"device {device}" : "no device",
        spec.Socket is { } socket ? $"socket {socket.Path}" : "no socket",
        spec.Pins is { } pins ? $"CPUs {pins.VfToVm?.ToString() ?? "auto"},{pins.VmToVf?.ToString() ?? "auto"}" : null,
    }.OfType<string>());
}
