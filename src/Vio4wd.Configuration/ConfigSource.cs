namespace Vio4wd.Configuration;

/// <summary>Where a setting's value came from, for error messages and the effective-settings listing.</summary>
public sealed record ConfigSource(string Subject, string Origin, bool FromCommandLine)
{
    public static ConfigSource File(string path, int line, string variable) => new($"{path}:{line}: {variable}", $"{path}:{line}", false);

    public static ConfigSource CommandLine(string longOption) => new($"--{longOption}", "command line", true);
}

/// <summary>The raw text of one setting, before validation.</summary>
public sealed record RawSetting(SettingDefinition Definition, IReadOnlyList<string> Values, bool ValueOmitted, ConfigSource Source)
{
    public string Value => Values.Count > 0 ? Values[^1] : string.Empty;
}

/// <summary>Limits of the DPDK build the configuration is checked against.</summary>
public sealed record ConfigLimits(int MaxRelays, int MaxCpus);
