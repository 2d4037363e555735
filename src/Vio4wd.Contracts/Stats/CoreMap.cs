using System.Globalization;
using System.Text;

namespace Vio4wd.Contracts.Stats;

/// <summary>Where the two directions of a relay run.</summary>
public sealed record Placement(int Relay, int VfToVmCpu, int VmToVfCpu);

/// <summary>
/// The original's map printout (its core scheduler, core pinner and <c>vio4wdctl top --core-map</c>):
/// a row of '=', a header per worker, then per row and worker the relay whose VM to VF direction
/// is there and the relay whose VF to VM direction is there.
/// </summary>
public static class CoreMap
{
    public static string Format(IReadOnlyList<int> workers, IReadOnlyList<Placement> placements)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(placements);
        int n = workers.Count;
        string rule = new('=', (8 * n) + (3 * Math.Max(n - 1, 0)));
        var text = new StringBuilder(rule).Append('\n');
        text.Append(string.Concat(workers.Select(w => string.Create(CultureInfo.InvariantCulture, $"== {w:00} ==   ")))).Append('\n');
        List<int>[] vmToVf = [.. workers.Select(w => placements.Where(p => p.VmToVfCpu == w).Select(p => p.Relay).ToList())];
        List<int>[] vfToVm = [.. workers.Select(w => placements.Where(p => p.VfToVmCpu == w).Select(p => p.Relay).ToList())];
        int rows = workers.Count == 0 ? 0 : Enumerable.Range(0, n).Max(i => Math.Max(vmToVf[i].Count, vfToVm[i].Count));
        for (int row = 0; row < rows; row++)
        {
            for (int i = 0; i < n; i++)
            {
                text.Append(Cell(vmToVf[i], row)).Append("    ").Append(Cell(vfToVm[i], row)).Append("   ");
            }

            text.Append('\n');
        }

        return text.Append(rule).ToString();
    }

    private static string Cell(List<int> relays, int row) =>
        row < relays.Count ? relays[row].ToString("00", CultureInfo.InvariantCulture) : "  ";
}
