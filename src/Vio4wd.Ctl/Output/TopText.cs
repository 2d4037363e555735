using System.Globalization;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts.Stats;

namespace Vio4wd.Ctl.Output;

/// <summary><c>vio4wdctl top</c>: worker CPUs (measured busy share, packets, directions) and relay rates.</summary>
internal static class TopText
{
    private const int BarWidth = 20;

    /// <summary>The original monitor_load.py's bars: 60 columns at full load.</summary>
    private const int LoadBarWidth = 60;

    public static string Format(TopView top) =>
        $"{top.Time:yyyy-MM-dd HH:mm:ss}Z, over {top.Seconds:0.0} s\n\n"
        + TextTable.Format(["CPU", "NUMA", "BUSY", string.Empty, "PPS", "CYC/PKT", "DIRECTIONS"], top.Workers.Select(w => new[]
        {
            Number(w.Cpu),
            Number(w.NumaNode),
            $"{w.BusyRatio * 100:0.0}%",
            "[" + Bar(w.BusyRatio, BarWidth, '|').PadRight(BarWidth) + "]",
            Rate(w.PacketsPerSecond),
            w.CyclesPerPacket is { } cycles ? cycles.ToString("0", CultureInfo.InvariantCulture) : "-",
            w.Directions.Count == 0 ? "-" : string.Join(' ', w.Directions.Select(d => d.Replace(" (pinned)", "*", StringComparison.Ordinal))),
        }))
        + "\n\n"
        + TextTable.Format(["RELAY", "VF-TO-VM CPU", "PPS", "BIT/S", "DROP/S", "VM-TO-VF CPU", "PPS", "BIT/S", "DROP/S"], top.Relays.Where(r => r.VfToVm.Cpu is not null || r.VmToVf.Cpu is not null).Select(r => new[]
        {
            Number(r.Id),
            Cpu(r.VfToVm.Cpu), Rate(r.VfToVm.PacketsPerSecond), Rate(r.VfToVm.BitsPerSecond), Rate(r.VfToVm.DropsPerSecond),
            Cpu(r.VmToVf.Cpu), Rate(r.VmToVf.PacketsPerSecond), Rate(r.VmToVf.BitsPerSecond), Rate(r.VmToVf.DropsPerSecond),
        }))
        + "\n(relays with a side up; * pinned)";

    /// <summary>As monitor_load.py: "CPU loads", then one bar per worker CPU.</summary>
    public static string LoadBars(TopView top) =>
        "CPU loads\n" + string.Join('\n', top.Workers.Select(w => $"CPU{Number(w.Cpu)}: {Bar(w.BusyRatio, LoadBarWidth, '-')}"));

    /// <summary>As core_pinner.py --print-core-map: "Worker cores affinities:" and the map.</summary>
    public static string CoreMapText(TopView top) =>
        "Worker cores affinities:\n" + CoreMap.Format(
            [.. top.Workers.Select(w => w.Cpu)],
            [.. top.Relays.Select(r => new Placement(r.Id, r.VfToVm.Cpu ?? -1, r.VmToVf.Cpu ?? -1))]);

    private static string Bar(double ratio, int width, char mark) => new(mark, (int)Math.Round(Math.Clamp(ratio, 0, 1) * width));

    private static string Cpu(int? cpu) => cpu?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    // 12.3M, 456.7k: rates read at a glance, as top and ifstat print them.
    private static string Rate(double value) => value switch
    {
        >= 1e9 => (value / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
