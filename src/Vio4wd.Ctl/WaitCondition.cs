using System.Globalization;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Ctl;

/// <summary>
/// What <c>vio4wdctl wait --for=...</c> waits for: <c>ready</c>, or
/// <c>condition=TYPE[=STATUS]</c> as kubectl spells it (STATUS defaults to True).
/// </summary>
internal sealed record WaitCondition(string Type, string Status)
{
    public static WaitCondition Parse(string text)
    {
        if (text.Equals("ready", StringComparison.OrdinalIgnoreCase))
        {
            return new WaitCondition("Ready", "True");
        }

        const string Prefix = "condition=";
        if (text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && text.Length > Prefix.Length)
        {
            string[] parts = text[Prefix.Length..].Split('=', 2);
            string status = parts.Length == 2 ? parts[1] : "True";
            if (parts[0].Length > 0 && status is "True" or "False" or "Unknown")
            {
                return new WaitCondition(parts[0], status);
            }
        }

        throw new FormatException($"--for='{text}': expected ready or condition=TYPE[=True|False|Unknown]");
    }

    public bool HoldsFor(RelayView relay) => relay.Conditions.Any(c => c.Type.Equals(Type, StringComparison.OrdinalIgnoreCase) && c.Status == Status);

    public override string ToString() => Type == "Ready" && Status == "True" ? "ready" : $"condition {Type}={Status}";
}

/// <summary>kubectl-style durations: 30s, 500ms, 2m, 1h, or plain seconds.</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text)
    {
        (string number, Func<double, TimeSpan> unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], TimeSpan.FromMilliseconds),
            _ when text.EndsWith('s') => (text[..^1], TimeSpan.FromSeconds),
            _ when text.EndsWith('m') => (text[..^1], TimeSpan.FromMinutes),
            _ when text.EndsWith('h') => (text[..^1], TimeSpan.FromHours),
            _ => (text, (Func<double, TimeSpan>)TimeSpan.FromSeconds),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || double.IsInfinity(value))
        {
            throw new FormatException($"'{text}' is not a duration (e.g. 30s, 500ms, 2m)");
        }

        return unit(value);
    }
}
