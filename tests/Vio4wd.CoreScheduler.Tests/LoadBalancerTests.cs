using Vio4wd.Contracts.Stats;
namespace Vio4wd.CoreScheduler.Tests;

public class LoadBalancerTests
{
    [Test]
    public void The_heaviest_directions_go_first_to_the_least_loaded_worker()
    {
        RelayLoad[] relays =
        [
            new(0, 0, VmToVf: 0.5, VfToVm: 0.4, VmToVfCpu: 1, VfToVmCpu: 1),
            new(1, 0, VmToVf: 0.3, VfToVm: 0.2, VmToVfCpu: 1, VfToVmCpu: 1),
        ];
        IReadOnlyList<Placement> plan = LoadBalancer.Plan(relays, [1, 2]);
        Assert.Multiple(() =>
        {
            // 0.5 -> 1, 0.4 -> 2, 0.3 -> 2 (0.4 < 0.5), 0.2 -> 1 (0.5 < 0.7)
            Assert.That(plan, Is.EqualTo(new[] { new Placement(0, VfToVmCpu: 2, VmToVfCpu: 1), new Placement(1, VfToVmCpu: 1, VmToVfCpu: 2) }));
            double current = LoadBalancer.Spread(relays, LoadBalancer.Current(relays), [1, 2]);
            double planned = LoadBalancer.Spread(relays, plan, [1, 2]);
            Assert.That(current, Is.EqualTo(1.0).Within(1e-9), "everything on one of two workers");
            Assert.That(planned, Is.EqualTo(0.0).Within(1e-9));
            Assert.That(LoadBalancer.WorthApplying(current, planned, 0.25), Is.True);
            Assert.That(LoadBalancer.WorthApplying(0.3, 0.1, 0.25), Is.False, "not better by more than the sensitivity");
        });
    }

    [Test]
    public void No_traffic_means_nothing_to_do_and_a_direction_outside_the_workers_forces_a_move()
    {
        RelayLoad idle = new(0, 0, 0, 0, 1, 1);
        RelayLoad stray = new(0, 0, 0.1, 0.1, 5, 1);
        Assert.Multiple(() =>
        {
            Assert.That(LoadBalancer.Spread([idle], LoadBalancer.Current([idle]), [1, 2]), Is.EqualTo(-1));
            Assert.That(LoadBalancer.Spread([stray], LoadBalancer.Current([stray]), [1, 2]), Is.EqualTo(1e10));
        });
    }

    [Test]
    public void The_load_model_is_the_originals()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LoadBalancer.VmToVfLoad(1e6, 1e6, 64e6, 64e6), Is.EqualTo(0.082 + (9.3e-5 * 64)).Within(1e-12));
            Assert.That(LoadBalancer.VfToVmLoad(2e6, 0, 0, 0), Is.EqualTo(0.0795).Within(1e-12));
        });
    }

    [Test]
    public void The_map_is_printed_as_the_original_printed_it()
    {
        string map = CoreMap.Format([1, 2], [new Placement(0, VfToVmCpu: 2, VmToVfCpu: 1), new Placement(3, VfToVmCpu: 1, VmToVfCpu: 2)]);
        Assert.That(map, Is.EqualTo(
            "===================\n" +
            "== 01 ==   == 02 ==   \n" +
            "00    03   03    00   \n" +
            "==================="));
    }

    [Test]
    public void Measured_loads_split_each_workers_busy_share_by_the_packets_its_directions_took()
    {
        // CPU 1 is 90 % busy with three directions (relay 0 both ways, relay 1 VF to VM); CPU 2 idle.
        RelayRates[] rates =
        [
            new(0, 0, VmToVfPps: 1e6, VfToVmPps: 2e6, VmToVfCpu: 1, VfToVmCpu: 1),
            new(1, 0, VmToVfPps: 0, VfToVmPps: 3e6, VmToVfCpu: null, VfToVmCpu: 1),
        ];
        IReadOnlyList<RelayLoad> loads = LoadBalancer.Measured(rates, new Dictionary<int, double> { [1] = 0.9, [2] = 0.0 });
        Assert.Multiple(() =>
        {
            Assert.That(loads[0].VmToVf, Is.EqualTo(0.15).Within(1e-9));
            Assert.That(loads[0].VfToVm, Is.EqualTo(0.30).Within(1e-9));
            Assert.That(loads[1].VfToVm, Is.EqualTo(0.45).Within(1e-9));
            Assert.That(loads[1].VmToVf, Is.Zero, "a direction that runs nowhere costs nothing");

            // The heavy direction leaves the busy CPU; the relay without a VM is not "misplaced".
            IReadOnlyList<Placement> plan = LoadBalancer.Plan(loads, [1, 2]);
            double current = LoadBalancer.Spread(loads, LoadBalancer.Current(loads), [1, 2]);
            double planned = LoadBalancer.Spread(loads, plan, [1, 2]);
            Assert.That(current, Is.EqualTo(1.0).Within(1e-9), "all of it on one of two workers, not the forced-move 1e10");
            Assert.That(plan.Single(p => p.Relay == 1).VfToVmCpu, Is.EqualTo(1), "the heaviest job first, onto the first least-loaded worker");
            Assert.That(plan.Single(p => p.Relay == 0).VfToVmCpu, Is.EqualTo(2));
            Assert.That(planned, Is.LessThan(current - 0.25));
        });
    }

    [Test]
    public void Once_balanced_the_same_loads_again_are_not_worth_a_move()
    {
        RelayRates[] rates =
        [
            new(0, 0, VmToVfPps: 0, VfToVmPps: 5e6, VmToVfCpu: null, VfToVmCpu: 1),
            new(1, 0, VmToVfPps: 0, VfToVmPps: 5e6, VmToVfCpu: null, VfToVmCpu: 2),
        ];
        // Measurement noise of a few percent either way must not move anything.
        foreach ((double a, double b) in new[] { (0.5, 0.5), (0.55, 0.45), (0.45, 0.6) })
        {
            IReadOnlyList<RelayLoad> loads = LoadBalancer.Measured(rates, new Dictionary<int, double> { [1] = a, [2] = b });
            double current = LoadBalancer.Spread(loads, LoadBalancer.Current(loads), [1, 2]);
            double planned = LoadBalancer.Spread(loads, LoadBalancer.Plan(loads, [1, 2]), [1, 2]);
            Assert.That(LoadBalancer.WorthApplying(current, planned, 0.25), Is.False, $"busy {a} and {b}");
        }
    }
}
