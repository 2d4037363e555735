using System.Globalization;

using Vio4wd.Configuration;

namespace Vio4wd.Configuration;

/// <summary>
/// Gathers the raw text of every setting from the config file and then the command line. As with
/// the original start script, an empty variable means "not set"; an option given on the command
/// line replaces the file's value (all occurrences of a repeatable option replace the file's list).
/// </summary>
public static class RawSettingCollector
{
    public static Dictionary<SettingKey, RawSetting> Collect(EnvFile? file, IReadOnlyList<ParsedOption> options, ConfigDiagnostics diagnostics)
    {
        var raw = new Dictionary<SettingKey, RawSetting>();
        if (file is not null)
        {
            foreach (EnvAssignment assignment in file.Assignments)
            {
                AddFromFile(raw, file.Path, assignment, diagnostics);
            }
        }

        var fromCommandLine = new HashSet<SettingKey>();
        foreach (ParsedOption option in options)
        {
            SettingDefinition? definition = SettingCatalog.All.FirstOrDefault(s => s.LongOption == option.Spec.LongName);
            if (definition is null)
            {
                continue; // a daemon-only option such as --config
            }

            var source = ConfigSource.CommandLine(definition.LongOption!);
            IReadOnlyList<string> values = option.Value is null ? [] : [option.Value];
            if (definition.Shape == SettingShape.List && fromCommandLine.Contains(definition.Key))
            {
                values = [.. raw[definition.Key].Values, .. values];
            }

            raw[definition.Key] = new RawSetting(definition, values, option.Value is null, source);
            fromCommandLine.Add(definition.Key);
        }

        return raw;
    }

    private static void AddFromFile(Dictionary<SettingKey, RawSetting> raw, string path, EnvAssignment assignment, ConfigDiagnostics diagnostics)
    {
        SettingDefinition? definition = SettingCatalog.ByVariable(assignment.Name);
        if (definition is null)
        {
            if (assignment.Name.StartsWith("VIRTIOFWD_", StringComparison.Ordinal) || assignment.Name.StartsWith("VIO4WD_", StringComparison.Ordinal))
            {
                string? guess = ClosestVariable(assignment.Name);
                diagnostics.Warning($"{path}:{assignment.Line}: unknown variable {assignment.Name} is ignored" +
                    (guess is null ? string.Empty : $" (did you mean {guess}?)"));
            }

            return;
        }

        var source = ConfigSource.File(path, assignment.Line, assignment.Name);
        IReadOnlyList<string> values = assignment.Values;
        if (definition.Shape == SettingShape.List)
        {
            // bash would word-split an unquoted scalar; the original then failed on the extra words.
            values = [.. values.SelectMany(v => v.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))];
        }
        else if (assignment.IsArray && assignment.Values.Count > 1)
        {
            diagnostics.Error($"{source.Subject}: takes a single value, not an array of {assignment.Values.Count.ToString(CultureInfo.InvariantCulture)}");
            raw.Remove(definition.Key);
            return;
        }

        if (values.All(v => v.Length == 0))
        {
            raw.Remove(definition.Key); // empty means "not set": the built-in default applies
            return;
        }

        raw[definition.Key] = new RawSetting(definition, values, false, source);
    }

    private static string? ClosestVariable(string name)
    {
        (string? best, int distance) = (null, int.MaxValue);
        foreach (string candidate in SettingCatalog.All.Select(s => s.Variable).OfType<string>())
        {
            int d = EditDistance(name, candidate);
            if (d < distance)
            {
                (best, distance) = (candidate, d);
            }
        }

        return distance <= 3 ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        int[] previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int[] current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
