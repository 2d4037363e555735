using Vio4wd.Contracts.Stats;

namespace Vio4wd.CoreScheduler;

/// <summary>One relay's load per direction (a share of a worker CPU) and where its directions run.</summary>
public sealed record RelayLoad(int Relay, int NumaNode, double VmToVf, double VfToVm, int? VmToVfCpu, int? VfToVmCpu);

/// <summary>One relay's packet rates per direction (packets taken in) and where its directions run.</summary>
public sealed record RelayRates(int Relay, int NumaNode, double VmToVfPps, double VfToVmPps, int? VmToVfCpu, int? VfToVmCpu);

/// <summary>How direction loads are judged: measured busy cycles (vio4wd), or the original's traffic model.</summary>
public enum LoadModel
{
    Measured,
    Original,
}

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

    /// <summary>
    /// Loads from what the workers measure: each worker's busy share, split over the directions it
    /// polls by the packets each took in. The sum over a worker is its measured busy ratio, so the
    /// spread of worker loads is the spread of real busy cycles, whatever the frame sizes or the
    /// CPU model (the original's coefficients were fitted on one machine).
    /// </summary>
    public static IReadOnlyList<RelayLoad> Measured(IReadOnlyList<RelayRates> relays, IReadOnlyDictionary<int, double> busyByCpu)
    {
        ArgumentNullException.ThrowIfNull(relays);
        ArgumentNullException.ThrowIfNull(busyByCpu);
        var rateByCpu = new Dictionary<int, double>();
        foreach (RelayRates r in relays)
        {
            Add(r.VmToVfCpu, r.VmToVfPps);
            Add(r.VfToVmCpu, r.VfToVmPps);
        }

        return [.. relays.Select(r => new RelayLoad(r.Relay, r.NumaNode, Share(r.VmToVfCpu, r.VmToVfPps), Share(r.VfToVmCpu, r.VfToVmPps), r.VmToVfCpu, r.VfToVmCpu))];

        void Add(int? cpu, double rate)
        {
            if (cpu is { } c)
            {
                rateByCpu[c] = rateByCpu.GetValueOrDefault(c) + rate;
            }
        }

        double Share(int? cpu, double rate) =>
            cpu is { } c && busyByCpu.TryGetValue(c, out double busy) && rateByCpu.GetValueOrDefault(c) > 0 ? busy * rate / rateByCpu[c] : 0;
    }

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
            // A direction that runs nowhere and costs nothing (its side is not up) is not misplaced.
            bool vfToVmIdle = p?.VfToVmCpu == -1 && r.VfToVm == 0;
            bool vmToVfIdle = p?.VmToVfCpu == -1 && r.VmToVf == 0;
            if (p is null || (!vfToVmIdle && !load.ContainsKey(p.VfToVmCpu)) || (!vmToVfIdle && !load.ContainsKey(p.VmToVfCpu)))
            {
                return 1e10;
            }

            if (!vfToVmIdle)
            {
                load[p.VfToVmCpu] += r.VfToVm;
            }

            if (!vmToVfIdle)
            {
                load[p.VmToVfCpu] += r.VmToVf;
            }
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
