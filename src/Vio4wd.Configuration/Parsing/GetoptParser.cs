using Vio4wd.Configuration;

namespace Vio4wd.Configuration;

public enum ArgumentKind
{
    None,
    Required,

    /// <summary>As in getopt: the value must be attached (<c>--opt=value</c>, <c>-Xvalue</c>).</summary>
    Optional,
}

/// <summary>A command-line option with its long name (without dashes) and optional short letter.</summary>
public sealed record OptionSpec(string LongName, char? ShortName, ArgumentKind Argument);

/// <summary>One option occurrence; <see cref="Value"/> is null when none was given.</summary>
public sealed record ParsedOption(OptionSpec Spec, string? Value);

/// <summary>
/// Parses arguments with getopt_long's rules, which the original daemon used and users' scripts
/// rely on: <c>--name=value</c> and <c>--name value</c>, unambiguous long prefixes, clustered
/// short options (<c>-JR</c>), attached short values (<c>-C1,2</c>), and <c>--</c>.
/// </summary>
public static class GetoptParser
{
    public static IReadOnlyList<ParsedOption> Parse(IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs, ConfigDiagnostics diagnostics)
    {
        var parsed = new List<ParsedOption>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                foreach (string extra in args.Skip(i + 1))
                {
                    diagnostics.Error($"unexpected argument '{extra}'");
                }

                break;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                i = ParseLong(args, i, specs, parsed, diagnostics);
            }
            else if (arg.Length > 1 && arg[0] == '-')
            {
                i = ParseShortCluster(args, i, specs, parsed, diagnostics);
            }
            else
            {
                diagnostics.Error($"unexpected argument '{arg}'");
            }
        }

        return parsed;
    }

    private static int ParseLong(IReadOnlyList<string> args, int i, IReadOnlyList<OptionSpec> specs, List<ParsedOption> parsed, ConfigDiagnostics diagnostics)
    {
        string body = args[i][2..];
        int eq = body.IndexOf('=', StringComparison.Ordinal);
        string name = eq < 0 ? body : body[..eq];
        string? value = eq < 0 ? null : body[(eq + 1)..];

        OptionSpec? spec = specs.FirstOrDefault(s => s.LongName == name);
        if (spec is null)
        {
            var candidates = specs.Where(s => s.LongName.StartsWith(name, StringComparison.Ordinal)).ToList();
            if (candidates.Count == 1 && name.Length > 0)
            {
                spec = candidates[0];
            }
            else if (candidates.Count > 1 && name.Length > 0)
            {
                diagnostics.Error($"option '--{name}' is ambiguous; possibilities: {string.Join(' ', candidates.Select(c => $"'--{c.LongName}'"))}");
                return i;
            }
            else
            {
                diagnostics.Error($"unrecognized option '--{name}'");
                return i;
            }
        }

        switch (spec.Argument)
        {
            case ArgumentKind.None when value is not null:
                diagnostics.Error($"option '--{spec.LongName}' doesn't allow an argument");
                return i;
            case ArgumentKind.Required when value is null:
                if (i + 1 >= args.Count)
                {
                    diagnostics.Error($"option '--{spec.LongName}' requires an argument");
                    return i;
                }

                value = args[++i];
                break;
        }

        parsed.Add(new ParsedOption(spec, value));
        return i;
    }

    private static int ParseShortCluster(IReadOnlyList<string> args, int i, IReadOnlyList<OptionSpec> specs, List<ParsedOption> parsed, ConfigDiagnostics diagnostics)
    {
        string cluster = args[i];
        for (int k = 1; k < cluster.Length; k++)
        {
            char letter = cluster[k];
            OptionSpec? spec = specs.FirstOrDefault(s => s.ShortName == letter);
            if (spec is null)
            {
                diagnostics.Error($"invalid option -- '{letter}'");
                return i;
            }

            string attached = cluster[(k + 1)..];
            switch (spec.Argument)
            {
                case ArgumentKind.None:
                    parsed.Add(new ParsedOption(spec, null));
                    continue;
                case ArgumentKind.Optional:
                    parsed.Add(new ParsedOption(spec, attached.Length > 0 ? attached : null));
                    return i;
                default:
                    if (attached.Length > 0)
                    {
                        parsed.Add(new ParsedOption(spec, attached));
                    }
                    else if (i + 1 < args.Count)
                    {
                        parsed.Add(new ParsedOption(spec, args[++i]));
                    }
                    else
                    {
                        diagnostics.Error($"option requires an argument -- '{letter}'");
                    }

                    return i;
            }
        }

        return i;
    }
}
