using System.Globalization;
using System.Text;

namespace Vio4wd.Configuration;

/// <summary>
/// Prints the effective settings as a config file (so the output can be used as one), each line
/// with where its value came from.
/// </summary>
public static class EffectiveSettingsFormatter
{
    public static string Format(VirtioForwarderOptions options, IReadOnlyDictionary<SettingKey, RawSetting> raw)
    {
        var text = new StringBuilder();
        text.AppendLine("# virtio-forwarder effective configuration");
        text.AppendLine(CultureInfo.InvariantCulture, $"# config file: {options.ConfigFile ?? "(none)"}; the command line overrides it");
        foreach (SettingDefinition setting in SettingCatalog.All.Where(s => s.Variable is not null && s.Key != SettingKey.Binary))
        {
            string origin = (raw.TryGetValue(setting.Key, out RawSetting? r) ? r.Source.Origin : "default") + Note(setting.Key, options);
            string line = $"{setting.Variable}={Value(setting.Key, options)}";
            text.AppendLine(CultureInfo.InvariantCulture, $"{line,-60} # {origin}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"# run mode: {(options.Daemonize ? "daemon" : "foreground")}, logging to {options.LogDestination.ToString().ToLowerInvariant()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"# port control: {PortControlSource(options)}; static VFs: {options.StaticVfs.Count}");
        text.AppendLine(CultureInfo.InvariantCulture, $"# vhost-user sockets: {Sockets(options)}");
        return text.ToString();
    }

    /// <summary>The one runtime source of relays besides static VFs, chosen as the original does.</summary>
    public static string PortControlSource(VirtioForwarderOptions options) =>
        options.ZmqPortControlEndpoint is not null ? $"ZeroMQ at {options.ZmqPortControlEndpoint}"
        : options.IpcPortControl ? $"file monitor {options.IpcCommandFile}"
        : $"OVSDB at {options.OvsdbSocket}";

    private static string Sockets(VirtioForwarderOptions options)
    {
        string mode = options.VhostClientMode ? "client mode" : "server mode";
        return options.DynamicSockets
            ? $"dynamic (added by port control), {mode}"
            : $"{options.SocketPathOf(0)} to {options.SocketPathOf(options.MaxRelays - 1)}, {mode}";
    }

    private static string Value(SettingKey key, VirtioForwarderOptions o) => key switch
    {
        SettingKey.CpuMask => o.WorkerCpus.ToString(),
        SettingKey.MasterLcore => Number(o.MainLcore),
        SettingKey.LogLevel => Number(o.LogLevel),
        SettingKey.PidDir => Quote(o.PidDirectory),
        SettingKey.HugeDir => Quote(o.HugepageDirectory),
        SettingKey.OvsdbSock => Quote(o.OvsdbSocket),
        SettingKey.IpcPortControl => Flag(o.IpcPortControl),
        SettingKey.IpcCommandFile => Quote(o.IpcCommandFile),
        SettingKey.ZmqConfigEp => Quote(o.ZmqConfigEndpoint),
        SettingKey.ZmqPortControlEp => Quote(o.ZmqPortControlEndpoint),
        SettingKey.ZmqStatsEp => Quote(o.ZmqStatsEndpoint),
        SettingKey.ZmqCurveSecretKey => Quote(o.ZmqCurveSecretKeyFile ?? string.Empty),
        SettingKey.ZmqCurveClientKeys => Quote(o.ZmqCurveClientKeys ?? string.Empty),
        SettingKey.ZmqAllowPlainLoopback => Flag(o.ZmqAllowPlainLoopback),
        SettingKey.ZmqCoreSchedEp => Quote(o.ZmqCoreSchedEndpoint),
        SettingKey.CoreSchedEnable => Flag(o.CoreScheduler.Enabled),
        SettingKey.SocketOwner => Quote(o.SocketOwner.Name),
        SettingKey.SocketGroup => Quote(o.SocketGroup.Name),
        SettingKey.SocketDir => Quote(o.SocketDirectory),
        SettingKey.SocketPattern => Quote(o.SocketNameTemplate),
        SettingKey.CpuPins => Array(o.CpuPins.Select(p => p.VfToVmCpu == p.VmToVfCpu
            ? $"{p.RelayId}:{p.VfToVmCpu}"
            : $"{p.RelayId}:{p.VfToVmCpu},{p.VmToVfCpu}")),
        SettingKey.Jumbo => Flag(o.Jumbo),
        SettingKey.MergeableBuffers => Flag(o.MergeableBuffers),
        SettingKey.StaticVfs => Array(o.StaticVfs.Select(v => $"{v.Device}={v.RelayId}")),
        SettingKey.VhostSocketDirs => Array(o.VhostSocketDirectories),
        SettingKey.AllowRuntimeDevargs => Flag(o.AllowRuntimeDevargs),
        SettingKey.VfioVfToken => Quote(o.VfioVfToken),
        SettingKey.VhostClient => Flag(o.VhostClientMode),
        SettingKey.ZeroCopy => Flag(o.ZeroCopy),
        SettingKey.Tso => Flag(o.Tso),
        SettingKey.DynamicSockets => Flag(o.DynamicSockets),
        SettingKey.SameNuma => Flag(o.SameNuma),
        SettingKey.EalArgs => Quote(string.Join(' ', o.ExtraEalArguments.Select(Quote))),
        SettingKey.ControlSock => Quote(o.ControlSocket),
        SettingKey.IdleSleepMaxUs => Number(o.IdleSleepMaxUs),
        SettingKey.MaxRelays => Number(o.MaxRelays),
        SettingKey.MetricsAddress => Quote(o.MetricsAddress?.ToString() ?? string.Empty),
        SettingKey.StateDir => Quote(o.StateDirectory ?? string.Empty),
        SettingKey.ControlOwner => Quote(o.ControlOwner.Name ?? string.Empty),
        SettingKey.ControlGroup => Quote(o.ControlGroup.Name ?? string.Empty),
        SettingKey.BindVfioPci => Quote(string.Join(',', o.BindVfioPci)),
        SettingKey.CoreSchedSensitivity => o.CoreScheduler.Sensitivity.ToString(CultureInfo.InvariantCulture),
        SettingKey.CoreSchedLogLevel => Number(o.CoreScheduler.LogLevel),
        SettingKey.CoreSchedPollInterval => o.CoreScheduler.PollIntervalSeconds.ToString(CultureInfo.InvariantCulture),
        SettingKey.CoreSchedGlobalNumaOpt => Flag(o.CoreScheduler.GlobalNumaOptimisation),
        SettingKey.CoreSchedLoadModel => o.CoreScheduler.LoadModel,
        _ => string.Empty,
    };

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Flag(bool on) => on ? "y" : string.Empty;

    private static string Note(SettingKey key, VirtioForwarderOptions options) => key switch
    {
        SettingKey.SocketOwner => AccountNote(options.SocketOwner, "user"),
        SettingKey.SocketGroup => AccountNote(options.SocketGroup, "group"),
        SettingKey.ControlOwner => AccountNote(options.ControlOwner, "user"),
        SettingKey.ControlGroup => AccountNote(options.ControlGroup, "group"),
        _ => string.Empty,
    };

    private static string AccountNote(SocketAccount account, string kind) =>
        account.Inherit ? $" (the daemon's own {kind})"
        : account.IsDefault ? $" (the daemon's own {kind} if {account.Name} does not exist)"
        : string.Empty;

    private static string Array(IEnumerable<string> items)
    {
        List<string> list = [.. items.Select(Quote)];
        return list.Count == 0 ? string.Empty : $"({string.Join(' ', list)})";
    }

    private static string Quote(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        bool plain = value.All(c => char.IsAsciiLetterOrDigit(c) || "/:.,_-=+%@".Contains(c, StringComparison.Ordinal));
        return plain ? value : $"'{value.Replace("'", "'\\''", StringComparison.Ordinal)}'";
    }
}
