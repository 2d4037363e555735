namespace Vio4wd.Configuration;

/// <summary>Problems found while reading configuration: errors stop the daemon, warnings do not.</summary>
public sealed class ConfigDiagnostics
{
    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];

    public IReadOnlyList<string> Errors => _errors;

    public IReadOnlyList<string> Warnings => _warnings;

    public bool HasErrors => _errors.Count > 0;

    public void Error(string message) => _errors.Add(message);

    public void Warning(string message) => _warnings.Add(message);

    public void AddRange(ConfigDiagnostics other)
    {
        _errors.AddRange(other._errors);
        _warnings.AddRange(other._warnings);
    }
}
