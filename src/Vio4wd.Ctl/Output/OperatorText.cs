using System.Globalization;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Ctl.Output;

/// <summary>Text of <c>health</c>, <c>config</c>, <c>log-level</c> and <c>reload</c>.</summary>
internal static class OperatorText
{
    public static string Health(HealthView health, bool liveOnly)
    {
        string live = Checks("live", health.Live, health.Liveness);
        return liveOnly ? live : live + "\n" + Checks("ready", health.Ready, health.Readiness);
    }

    public static string Config(ConfigView config) =>
        config.Settings.TrimEnd('\n') + "\n\n# worker CPUs and the relay directions they poll now (* pinned)\n"
        + (config.CpuMap.Count == 0 ? "# (the dataplane is still starting)"
            : TextTable.Format(["# CPU", "NUMA", "DIRECTIONS"], config.CpuMap.Select(w => new[]
            {
                "# " + w.Cpu.ToString(CultureInfo.InvariantCulture),
                w.NumaNode.ToString(CultureInfo.InvariantCulture),
                w.Directions.Count == 0 ? "-" : string.Join(' ', w.Directions.Select(d => d.Replace(" (pinned)", "*", StringComparison.Ordinal))),
            })));

    public static string LogLevel(LogLevelView level, bool changed) =>
        changed
            ? $"log level {level.Level} ({Name(level.Level)}), was {level.Previous} ({Name(level.Previous)})"
            : $"log level {level.Level} ({Name(level.Level)})";

    public static string Reload(ReloadView reload) =>
        !reload.Applied ? "reload refused, nothing changed:\n" + string.Join('\n', reload.Errors.Select(e => "  " + e))
        : reload.Changes.Count == 0 ? "reloaded: nothing changed"
        : "reloaded:\n" + string.Join('\n', reload.Changes.Select(c => "  " + c));

    private static string Checks(string what, bool ok, IReadOnlyList<HealthCheckView> checks) =>
        string.Concat(checks.Select(c => c.Ok ? $"[+]{c.Name} ok\n" : $"[-]{c.Name} failed: {c.Message}\n"))
        + $"{what}: {(ok ? "yes" : "no")}";

    private static string Name(int level) => level switch
    {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warning",
        5 => "notice",
        6 => "info",
        _ => "debug",
    };
}
