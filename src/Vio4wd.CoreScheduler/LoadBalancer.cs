using Vio4wd.Contracts.Stats;

namespace Vio4wd.CoreScheduler;

/// <summary>One relay's measured load per direction (the original's model) and where its directions run.</summary>
public sealed record RelayLoad(int Relay, int NumaNode, double VmToVf, double VfToVm, int? VmToVfCpu, int? VfToVmCpu);

/// <summary>
/// The original's balancing: every direction is a job; jobs are placed heaviest first on the least
/// loaded worker (longest processing time first); a plan is worth applying only when the spread of
/// worker loads (coefficient of variation) drops by more than the sensitivity.
/// </summary>
public static class LoadBalancer
{
    /// <summary>Loads in the original's units (roughly a core's fraction per Mpps and per MB/s).</summary>
    public static double VmToVfLoad(double pktRateRxFromVm, double pktRateTxToVf, double byteRateRxFromVm, double byteRateTxToVf) =>
        (0.082 * ((pktRateRxFromVm + pktRateTxToVf) / 2) / 1e6) + (9.3e-5 * ((byteRateRxFromVm + byteRateTxToVf) / 2) / 1e6);

    public static double VfToVmLoad(double pktRateRxFromVf, double pktRateTxToVm, double byteRateRxFromVf, double byteRateTxToVm) =>
        (0.0795 * ((pktRateRxFromVf + pktRateTxToVm) / 2) / 1e6) + (8.2e-5 * ((byteRateRxFromVf + byteRateTxToVm) / 2) / 1e6);

    public static IReadOnlyList<Placement> Plan(IReadOnlyList<RelayLoad> relays, IReadOnlyList<int> workers)
    {
        ArgumentNullException.ThrowIfNull(relays);
        ArgumentNullException.ThrowIfNull(workers);
        var load = workers.ToDictionary(w => w, _ => 0.0);
        var vfToVm = new Dictionary<int, int>();
        var vmToVf = new Dictionary<int, int>();
        var jobs = relays.SelectMany(r => new[] { (r.Relay, VmToVf: true, Load: r.VmToVf), (r.Relay, VmToVf: false, Load: r.VfToVm) })
            .OrderByDescending(j => j.Load);
        foreach ((int relay, bool isVmToVf, double jobLoad) in jobs)
        {
            // Ties go to the first worker in list order, as the original's did.
            int worker = workers.MinBy(w => load[w]);
            load[worker] += jobLoad;
            (isVmToVf ? vmToVf : vfToVm)[relay] = worker;
        }

        return [.. relays.Select(r => new Placement(r.Relay, vfToVm[r.Relay], vmToVf[r.Relay]))];
    }

    /// <summary>Coefficient of variation of worker loads; -1 when there is no load at all; 1e10 when a direction sits outside the workers (forces a move).</summary>
    public static double Spread(IReadOnlyList<RelayLoad> relays, IReadOnlyList<Placement> placements, IReadOnlyList<int> workers)
    {
        ArgumentNullException.ThrowIfNull(relays);
        ArgumentNullException.ThrowIfNull(placements);
        ArgumentNullException.ThrowIfNull(workers);
        var load = workers.ToDictionary(w => w, _ => 0.0);
        foreach (RelayLoad r in relays)
        {
            Placement? p = placements.FirstOrDefault(x => x.Relay == r.Relay);
            if (p is null || !load.ContainsKey(p.VfToVmCpu) || !load.ContainsKey(p.VmToVfCpu))
            {
                return 1e10;
            }

            load[p.VfToVmCpu] += r.VfToVm;
            load[p.VmToVfCpu] += r.VmToVf;
        }

        double mean = load.Values.Average();
        if (mean == 0)
        {
            return -1;
        }

        double variance = load.Values.Select(l => (l - mean) * (l - mean)).Average();
        return Math.Sqrt(variance) / mean;
    }

    /// <summary>The current placement of the relays, as the stats service reports it.</summary>
    public static IReadOnlyList<Placement> Current(IReadOnlyList<RelayLoad> relays) =>
        [.. relays.Select(r => new Placement(r.Relay, r.VfToVmCpu ?? -1, r.VmToVfCpu ?? -1))];

    public static bool WorthApplying(double current, double planned, double sensitivity) => planned + sensitivity < current;
}
