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
}
