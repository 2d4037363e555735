using System.Globalization;
using System.Text;
using Vio4wd.Contracts;

using Vio4wd.Configuration;

namespace Vio4wd.Configuration;

/// <summary>Validates raw settings into <see cref="VirtioForwarderOptions"/>, reporting every problem.</summary>
public sealed class OptionsBuilder
{
    private static readonly string[] EalCpuLongOptions = ["--main-lcore", "--master-lcore"];

    private readonly IReadOnlyDictionary<SettingKey, RawSetting> _raw;
    private readonly ConfigLimits _limits;
    private readonly ConfigDiagnostics _diagnostics;

    // VIRTIOFWD_MAX_RELAYS, read first: relay ids elsewhere in the file are checked against it.
    private int _maxRelays;

    private OptionsBuilder(IReadOnlyDictionary<SettingKey, RawSetting> raw, ConfigLimits limits, ConfigDiagnostics diagnostics)
    {
        _raw = raw;
        _limits = limits;
        _diagnostics = diagnostics;
    }

    /// <summary>The options, or null when <paramref name="diagnostics"/> received errors.</summary>
    public static VirtioForwarderOptions? Build(IReadOnlyDictionary<SettingKey, RawSetting> raw, ConfigLimits limits, ConfigDiagnostics diagnostics, string? configFile)
    {
        int errorsBefore = diagnostics.Errors.Count;
        VirtioForwarderOptions options = new OptionsBuilder(raw, limits, diagnostics).BuildOptions() with { ConfigFile = configFile };
        return diagnostics.Errors.Count == errorsBefore ? options : null;
    }

    private VirtioForwarderOptions BuildOptions()
    {
        CpuSet workers = Parse(SettingKey.CpuMask, v => ValueParsers.CpuSet(v, _limits.MaxCpus, out string p).OrProblem(p)) ?? new CpuSet([]);
        if (!_raw.ContainsKey(SettingKey.CpuMask))
        {
            _diagnostics.Error("VIRTIOFWD_CPU_MASK (--cpus) is not set: the worker CPUs are mandatory, e.g. VIRTIOFWD_CPU_MASK=1,2");
        }

        int defaultMaxRelays = Math.Min(VirtioForwarderOptions.DefaultMaxRelays, _limits.MaxRelays);
        _maxRelays = Parse(SettingKey.MaxRelays, v => ValueParsers.BoundedInt(v, 1, _limits.MaxRelays, out string p).OrProblem(p)) ?? defaultMaxRelays;
        var options = new VirtioForwarderOptions
        {
            MaxRelays = _maxRelays,
            WorkerCpus = workers,
            MainLcore = Parse(SettingKey.MasterLcore, v => ValueParsers.BoundedInt(v, 0, _limits.MaxCpus - 1, out string p).OrProblem(p)) ?? 0,
            LogLevel = Parse(SettingKey.LogLevel, v => ValueParsers.BoundedInt(v, 0, 7, out string p).OrProblem(p)) ?? 6,
            PidDirectory = Parse(SettingKey.PidDir, v => ValueParsers.AbsolutePath(v, out string p).OrProblem(p)) ?? "/var/run",
            HugepageDirectory = Parse(SettingKey.HugeDir, v => ValueParsers.AbsolutePath(v, out string p).OrProblem(p)) ?? "/mnt/huge",
            OvsdbSocket = Parse(SettingKey.OvsdbSock, v => ValueParsers.OvsdbRemote(v, out string p).OrProblem(p)) ?? VirtioForwarderOptions.DefaultOvsdbSocket,
            OvsdbSocketConfigured = _raw.ContainsKey(SettingKey.OvsdbSock),
            IpcPortControl = Flag(SettingKey.IpcPortControl),
            IpcCommandFile = Parse(SettingKey.IpcCommandFile, v => ValueParsers.UnixSocketPath(v, out string p).OrProblem(p)) ?? VirtioForwarderOptions.DefaultIpcCommandFile,
            ZmqConfigEndpoint = Endpoint(SettingKey.ZmqConfigEp, VirtioForwarderOptions.DefaultZmqConfigEndpoint),
            ZmqPortControlEndpoint = Endpoint(SettingKey.ZmqPortControlEp, VirtioForwarderOptions.DefaultZmqPortControlEndpoint),
            ZmqStatsEndpoint = Endpoint(SettingKey.ZmqStatsEp, VirtioForwarderOptions.DefaultZmqStatsEndpoint),
            ZmqCurveSecretKeyFile = Parse(SettingKey.ZmqCurveSecretKey, v => ValueParsers.UnixSocketPath(v, out string p).OrProblem(p)),
            ZmqCurveClientKeys = Parse(SettingKey.ZmqCurveClientKeys, v => ValueParsers.AbsolutePath(v, out string p).OrProblem(p)),
            ZmqAllowPlainLoopback = Flag(SettingKey.ZmqAllowPlainLoopback),
            ZmqCoreSchedEndpoint = CoreSchedEndpoint(),
            SocketOwner = Account(SettingKey.SocketOwner, "user") ?? SocketAccount.DefaultOf("libvirt-qemu"),
            SocketGroup = Account(SettingKey.SocketGroup, "group") ?? SocketAccount.DefaultOf("kvm"),
            SocketDirectory = Parse(SettingKey.SocketDir, v => ValueParsers.AbsolutePath(v, out string p).OrProblem(p)) ?? VirtioForwarderOptions.DefaultSocketDirectory,
            SocketNameTemplate = Parse(SettingKey.SocketPattern, v => ValueParsers.SocketNameTemplate(v, out string p).OrProblem(p)) ?? "virtio-forwarder%u.sock",
            VhostClientMode = Flag(SettingKey.VhostClient),
            DynamicSockets = Flag(SettingKey.DynamicSockets),
            ZeroCopy = Flag(SettingKey.ZeroCopy),
            Jumbo = Flag(SettingKey.Jumbo),
            MergeableBuffers = Flag(SettingKey.MergeableBuffers),
            Tso = Flag(SettingKey.Tso),
            SameNuma = Flag(SettingKey.SameNuma),
            VfioVfToken = Parse(SettingKey.VfioVfToken, v => ValueParsers.VfioVfToken(v, out string p).OrProblem(p)),
            StaticVfs = StaticVfs(),
            VhostSocketDirectories = VhostSocketDirectories(),
            AllowRuntimeDevargs = Flag(SettingKey.AllowRuntimeDevargs),
            CpuPins = CpuPins(workers),
            ExtraEalArguments = EalArguments(workers),
            ControlSocket = Parse(SettingKey.ControlSock, v => ValueParsers.UnixSocketPath(v, out string p).OrProblem(p)) ?? DefaultEndpoints.ControlSocket,
            ControlOwner = Account(SettingKey.ControlOwner, "user") ?? SocketAccount.InheritFromProcess,
            ControlGroup = Account(SettingKey.ControlGroup, "group") ?? SocketAccount.InheritFromProcess,
            // Empty (the shipped config's VIRTIOFWD_METRICS_ADDRESS=) is off, as when it is absent.
            MetricsAddress = _raw.TryGetValue(SettingKey.MetricsAddress, out RawSetting? metrics) && metrics.Value.Length == 0
                ? null
                : Parse(SettingKey.MetricsAddress, v => ListenAddress.Parse(v, out string p).OrProblem(p)),
            // Empty is off: no state file, relays added at run time last until the daemon stops.
            StateDirectory = _raw.TryGetValue(SettingKey.StateDir, out RawSetting? state) && state.Value.Length == 0
                ? null
                : Parse(SettingKey.StateDir, v => ValueParsers.AbsolutePath(v, out string p).OrProblem(p)) ?? VirtioForwarderOptions.DefaultStateDirectory,
            IdleSleepMaxUs = Parse(SettingKey.IdleSleepMaxUs, v => ValueParsers.BoundedInt(v, 0, 100_000, out string p).OrProblem(p)) ?? VirtioForwarderOptions.DefaultIdleSleepMaxUs,
            BindVfioPci = BindVfioPci(),
            CoreScheduler = CoreScheduler(),
        };

        if (_raw.TryGetValue(SettingKey.NoDaemon, out RawSetting? noDaemon))
        {
            options = options with
            {
                Daemonize = false,
                LogDestination = noDaemon.Value == "log_syslog" ? LogDestination.Syslog : LogDestination.Console,
            };
        }

        // The core scheduler reads rates from the stats service, so it turns that on (as the original).
        if (options.ZmqCoreSchedEndpoint is not null && options.ZmqStatsEndpoint is null)
        {
            options = options with { ZmqStatsEndpoint = VirtioForwarderOptions.DefaultZmqStatsEndpoint };
        }

        CheckMainLcore(options);
        CheckSocketPathLength(options);
        WarnOfSettingsWithoutEffect(options);
        return options;
    }

    // Accepted for compatibility, but nothing here acts on them: say so rather than print them as settings.
    private void WarnOfSettingsWithoutEffect(VirtioForwarderOptions options)
    {
        if (options.ZeroCopy)
        {
            _diagnostics.Warning("VIRTIOFWD_ZERO_COPY (--zero-copy) has no effect: DPDK 20.11 and later have no dequeue zero-copy");
        }

        if (_raw.ContainsKey(SettingKey.Binary))
        {
            _diagnostics.Warning("VIRTIOFWD_BINARY has no effect: the systemd units run /usr/bin/virtio-forwarder (a drop-in's ExecStart= changes it)");
        }
    }

    private T? Parse<T>(SettingKey key, Func<string, (T? Value, string Problem)> parse)
        where T : class =>
        _raw.TryGetValue(key, out RawSetting? raw) ? Report(raw, raw.Value, parse(raw.Value)) : null;

    private int? Parse(SettingKey key, Func<string, (int? Value, string Problem)> parse) =>
        _raw.TryGetValue(key, out RawSetting? raw) ? Report(raw, raw.Value, parse(raw.Value)) : null;

    private T? Report<T>(RawSetting raw, string value, (T? Value, string Problem) result)
    {
        if (result.Value is null)
        {
            Problem(raw, value, result.Problem);
        }

        return result.Value;
    }

    private void Problem(RawSetting raw, string value, string problem) =>
        _diagnostics.Error($"{raw.Source.Subject}='{value}': {problem}");

    private bool Flag(SettingKey key)
    {
        if (!_raw.TryGetValue(key, out RawSetting? raw))
        {
            return false;
        }

        if (raw.Source.FromCommandLine)
        {
            return true;
        }

        bool? on = ValueParsers.Flag(raw.Value, out string problem);
        if (on is null)
        {
            Problem(raw, raw.Value, problem);
        }

        return on ?? false;
    }

    private string? Endpoint(SettingKey key, string defaultEndpoint)
    {
        if (!_raw.TryGetValue(key, out RawSetting? raw))
        {
            return null;
        }

        return raw.ValueOmitted ? defaultEndpoint : Report(raw, raw.Value, (ValueParsers.ZmqEndpoint(raw.Value, out string p), p));
    }

    private string? CoreSchedEndpoint()
    {
        // In the file the endpoint only counts when VIO4WD_CORE_SCHED_ENABLE is on (the start script's rule);
        // on the command line --zmq-core-sched-ep enables it by itself.
        if (_raw.TryGetValue(SettingKey.ZmqCoreSchedEp, out RawSetting? raw) && !raw.Source.FromCommandLine && !Flag(SettingKey.CoreSchedEnable))
        {
            return null;
        }

        return Endpoint(SettingKey.ZmqCoreSchedEp, VirtioForwarderOptions.DefaultZmqCoreSchedEndpoint);
    }

    private SocketAccount? Account(SettingKey key, string kind)
    {
        if (!_raw.TryGetValue(key, out RawSetting? raw))
        {
            return null;
        }

        return raw.ValueOmitted ? SocketAccount.InheritFromProcess : Report(raw, raw.Value, (ValueParsers.Account(raw.Value, kind, out string p), p));
    }

    private List<string> VhostSocketDirectories()
    {
        var directories = new List<string>();
        if (_raw.TryGetValue(SettingKey.VhostSocketDirs, out RawSetting? raw))
        {
            foreach (string entry in raw.Values.Where(v => v.Length > 0))
            {
                if (Report(raw, entry, (ValueParsers.AbsolutePath(entry, out string p), p)) is { } path
                    && !directories.Contains(Path.TrimEndingDirectorySeparator(path)))
                {
                    directories.Add(Path.TrimEndingDirectorySeparator(path));
                }
            }
        }

        return directories;
    }

    private List<StaticVf> StaticVfs()
    {
        var vfs = new List<StaticVf>();
        if (!_raw.TryGetValue(SettingKey.StaticVfs, out RawSetting? raw))
        {
            return vfs;
        }

        foreach (string entry in raw.Values)
        {
            StaticVf? vf = Report(raw, entry, (ValueParsers.StaticVf(entry, _maxRelays, out string p), p));
            if (vf is null)
            {
                continue;
            }

            StaticVf? sameRelay = vfs.Find(v => v.RelayId == vf.RelayId);
            StaticVf? sameDevice = vfs.Find(v => v.Device == vf.Device);
            if (sameRelay is not null)
            {
                Problem(raw, entry, $"relay {vf.RelayId} is already given to device '{sameRelay.Device}'");
            }
            else if (sameDevice is not null)
            {
                Problem(raw, entry, $"device '{vf.Device}' is already relayed on relay {sameDevice.RelayId}");
            }
            else
            {
                vfs.Add(vf);
            }
        }

        return vfs;
    }

    private List<CpuPin> CpuPins(CpuSet workers)
    {
        var pins = new List<CpuPin>();
        if (!_raw.TryGetValue(SettingKey.CpuPins, out RawSetting? raw))
        {
            return pins;
        }

        foreach (string entry in raw.Values.SelectMany(v => v.Split(';', StringSplitOptions.RemoveEmptyEntries)))
        {
            CpuPin? pin = Report(raw, entry, (ValueParsers.CpuPin(entry, _maxRelays, _limits.MaxCpus, out string p), p));
            if (pin is null)
            {
                continue;
            }

            int outside = new[] { pin.VfToVmCpu, pin.VmToVfCpu }.FirstOrDefault(c => !workers.Contains(c), -1);
            if (pins.Exists(p => p.RelayId == pin.RelayId))
            {
                Problem(raw, entry, $"relay {pin.RelayId} is pinned more than once");
            }
            else if (outside >= 0 && workers.Count > 0)
            {
                Problem(raw, entry, $"CPU {outside} is not one of the worker CPUs ({workers})");
            }
            else
            {
                pins.Add(pin);
            }
        }

        return pins;
    }

    private IReadOnlyList<string> EalArguments(CpuSet workers)
    {
        if (!_raw.TryGetValue(SettingKey.EalArgs, out RawSetting? raw))
        {
            return [];
        }

        IReadOnlyList<string>? words = EnvFileParser.SplitWords(raw.Value, out string problem);
        if (words is null)
        {
            Problem(raw, raw.Value, problem);
            return [];
        }

        string? cpuOption = words.FirstOrDefault(SetsEalCpus);
        if (cpuOption is not null)
        {
            Problem(raw, raw.Value, $"'{cpuOption}' sets the EAL's CPUs, which come from VIRTIOFWD_CPU_MASK and VIRTIOFWD_MASTER_LCORE; set those instead");
            return [];
        }

        if (LcoreMap(words) is { } map && LcoreMapProblem(map, workers) is { } mismatch)
        {
            Problem(raw, raw.Value, mismatch);
            return [];
        }

        return words;
    }

    // --lcores maps lcore ids to CPUs; the ids must be the workers and the main lcore, as -l would name them.
    private static string? LcoreMap(IReadOnlyList<string> words)
    {
        int at = words.ToList().FindIndex(w => w == "--lcores" || w.StartsWith("--lcores=", StringComparison.Ordinal));
        return at < 0 ? null : words[at] == "--lcores" ? (at + 1 < words.Count ? words[at + 1] : string.Empty) : words[at]["--lcores=".Length..];
    }

    private string? LcoreMapProblem(string map, CpuSet workers)
    {
        int main = _raw.TryGetValue(SettingKey.MasterLcore, out RawSetting? m) && int.TryParse(m.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
        var ids = new SortedSet<int>();
        foreach (string entry in map.Split(','))
        {
            string id = entry.Split('@')[0];
            if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int lcore) || entry.Count(c => c == '@') > 1)
            {
                return $"--lcores '{map}': give LCORE@CPU entries separated by commas (e.g. 0@0,1@1,2@1), not '{entry}'";
            }

            ids.Add(lcore);
        }

        SortedSet<int> expected = [.. workers.Append(main)];
        return ids.SetEquals(expected) ? null
            : $"--lcores '{map}' maps lcores {string.Join(',', ids)}, but the workers (VIRTIOFWD_CPU_MASK) and the main lcore are {string.Join(',', expected)}";
    }

    // -l/-c (also with the value attached, "-l0-3") and the long lcore options.
    private static bool SetsEalCpus(string word) =>
        (!word.StartsWith("--", StringComparison.Ordinal) && (word.StartsWith("-l", StringComparison.Ordinal) || word.StartsWith("-c", StringComparison.Ordinal))) ||
        EalCpuLongOptions.Any(o => word == o || word.StartsWith(o + "=", StringComparison.Ordinal));

    private List<string> BindVfioPci()
    {
        var devices = new List<string>();
        if (!_raw.TryGetValue(SettingKey.BindVfioPci, out RawSetting? raw))
        {
            return devices;
        }

        foreach (string device in raw.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ValueParsers.DeviceSelector(device))
            {
                devices.Add(device);
            }
            else
            {
                Problem(raw, raw.Value, $"'{device}' is neither a PCI address (dddd:bb:dd.f or bb:dd.f) nor netdev[:count]");
            }
        }

        return devices;
    }

    private CoreSchedulerOptions CoreScheduler() => new()
    {
        Enabled = Flag(SettingKey.CoreSchedEnable),
        Sensitivity = Parse(SettingKey.CoreSchedSensitivity, v => (ValueParsers.Number(v, 0, minExclusive: false, out string p), p)) ?? 0.25,
        LogLevel = Parse(SettingKey.CoreSchedLogLevel, v => ValueParsers.BoundedInt(v, 0, 7, out string p).OrProblem(p)) ?? 7,
        PollIntervalSeconds = Parse(SettingKey.CoreSchedPollInterval, v => (ValueParsers.Number(v, 0, minExclusive: true, out string p), p)) ?? 5.0,
        GlobalNumaOptimisation = Flag(SettingKey.CoreSchedGlobalNumaOpt),
        LoadModel = Parse(SettingKey.CoreSchedLoadModel, v => (v.Length == 0 ? "measured" : v is "measured" or "original" ? v : null, "expected measured or original")) ?? "measured",
    };

    private double? Parse(SettingKey key, Func<string, (double? Value, string Problem)> parse) =>
        _raw.TryGetValue(key, out RawSetting? raw) ? Report(raw, raw.Value, parse(raw.Value)) : null;

    private void CheckMainLcore(VirtioForwarderOptions options)
    {
        if (options.WorkerCpus.Contains(options.MainLcore))
        {
            string subject = _raw.TryGetValue(SettingKey.MasterLcore, out RawSetting? raw) ? raw.Source.Subject : "VIRTIOFWD_MASTER_LCORE (default)";
            _diagnostics.Error($"{subject}='{options.MainLcore}': the main lcore must not be one of the worker CPUs ({options.WorkerCpus})");
        }
    }

    private void CheckSocketPathLength(VirtioForwarderOptions options)
    {
        string longest = options.SocketPathOf(options.MaxRelays - 1);
        if (Encoding.UTF8.GetByteCount(longest) > ValueParsers.MaxUnixSocketPathBytes)
        {
            string subject = _raw.TryGetValue(SettingKey.SocketDir, out RawSetting? raw) ? raw.Source.Subject : "VIRTIOFWD_SOCKET_DIR";
            _diagnostics.Error(string.Create(
                CultureInfo.InvariantCulture,
                $"{subject}='{options.SocketDirectory}': socket path '{longest}' is longer than the {ValueParsers.MaxUnixSocketPathBytes} bytes a unix socket path may have"));
        }
    }
}

internal static class ParseResultExtensions
{
    public static (T? Value, string Problem) OrProblem<T>(this T? value, string problem)
        where T : class => (value, problem);

    public static (int? Value, string Problem) OrProblem(this int? value, string problem) => (value, problem);
}
