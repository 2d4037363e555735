using Vio4wd.Configuration;

namespace Vio4wd.Configuration;

/// <summary>What the daemon was asked to do, besides running.</summary>
public sealed record DaemonCommand(bool Help, bool Version, bool CheckConfig, string? ConfigFile);

/// <summary>The outcome of reading the configuration: options when valid, and every problem found.</summary>
public sealed record LoadedConfiguration(
    DaemonCommand Command,
    VirtioForwarderOptions? Options,
    ConfigDiagnostics Diagnostics,
    IReadOnlyDictionary<SettingKey, RawSetting> Raw);

/// <summary>Reads the daemon's command line and its <c>--config</c> file into validated options.</summary>
public static class ConfigurationLoader
{
    private static readonly OptionSpec ConfigOption = new("config", null, ArgumentKind.Required);
    private static readonly OptionSpec CheckConfigOption = new("check-config", null, ArgumentKind.None);
    private static readonly OptionSpec HelpOption = new("help", 'h', ArgumentKind.None);
    private static readonly OptionSpec VersionOption = new("version", 'v', ArgumentKind.None);

    /// <summary>Every option of the daemon: the original's, vio4wd's settings, and the daemon's own.</summary>
    public static IReadOnlyList<OptionSpec> DaemonOptions { get; } =
    [
        .. SettingCatalog.All.Select(s => s.Option).OfType<OptionSpec>(),
        ConfigOption,
        CheckConfigOption,
        HelpOption,
        VersionOption,
    ];

    public static LoadedConfiguration Load(IReadOnlyList<string> args, ConfigLimits limits, Func<string, string> readFile)
    {
        var diagnostics = new ConfigDiagnostics();

        // getopt's usage option -? is spelled as help here.
        string[] normalised = [.. args.Select(a => a == "-?" ? "-h" : a)];
        IReadOnlyList<ParsedOption> parsed = GetoptParser.Parse(normalised, DaemonOptions, diagnostics);
        var command = new DaemonCommand(
            Help: parsed.Any(o => o.Spec == HelpOption),
            Version: parsed.Any(o => o.Spec == VersionOption),
            CheckConfig: parsed.Any(o => o.Spec == CheckConfigOption),
            ConfigFile: parsed.LastOrDefault(o => o.Spec == ConfigOption)?.Value);

        // Settings are not judged when the command line itself could not be read.
        if (command.Help || command.Version || diagnostics.HasErrors)
        {
            return new LoadedConfiguration(command, null, diagnostics, new Dictionary<SettingKey, RawSetting>());
        }

        EnvFile? file = command.ConfigFile is null ? null : ReadConfigFile(command.ConfigFile, readFile, diagnostics);
        Dictionary<SettingKey, RawSetting> raw = RawSettingCollector.Collect(file, parsed, diagnostics);
        VirtioForwarderOptions? options = OptionsBuilder.Build(raw, limits, diagnostics, command.ConfigFile);
        return new LoadedConfiguration(command, diagnostics.HasErrors ? null : options, diagnostics, raw);
    }

    private static EnvFile? ReadConfigFile(string path, Func<string, string> readFile, ConfigDiagnostics diagnostics)
    {
        string text;
        try
        {
            text = readFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error($"--config='{path}': cannot read the config file: {e.Message}");
            return null;
        }

        return EnvFileParser.Parse(text, path, diagnostics);
    }
}
