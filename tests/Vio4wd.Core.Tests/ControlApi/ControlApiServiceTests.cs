using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.ControlApi;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Core.Tests.Reconciliation;
using static Vio4wd.Core.Tests.Reconciliation.Harness;
using Vio4wd.Core.Health;

namespace Vio4wd.Core.Tests.ControlApi;

public class ControlApiServiceTests
{
    private static ControlApiService Api(Harness h) => new(h.Statuses, h.Desired, new RejectedRequests(), new DaemonParts(), () => h.Dataplane, () => true, "test", Controls(), h.Results);

    private static OperatorControls Controls()
    {
        int level = 6;
        return new OperatorControls(
            new DaemonHealth(new DaemonParts(), () => true, () => null, TimeSpan.FromSeconds(30)),
            () => (null, string.Empty),
            () => level,
            l => level = l,
            _ => Task.FromResult(new ReloadView(true, [], [])));
    }

    [Test]
    public async Task Log_level_is_set_within_0_to_7_and_a_bad_level_changes_nothing()
    {
        await using var h = new Harness();
        ControlApiService api = Api(h);
        Assert.That(await api.LogLevelAsync(7), Is.EqualTo(new LogLevelView(7, 6)));
        var e = await Assert.ThrowsAsync<ControlRequestException>(() => api.LogLevelAsync(8));
        Assert.That(e!.Message, Does.Contain("0 (emergencies only) to 7 (debug), not 8"));
        Assert.That(await api.LogLevelAsync(null), Is.EqualTo(new LogLevelView(7, 7)));
    }

    [Test]
    public async Task Pin_answers_once_the_reconciler_has_moved_the_directions_and_survives_a_reload()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0, pins: new CpuPins(1, 1))]);
        await h.ConvergedAsync("relay 0");

        RelayView view = await Api(h).PinAsync(0, [2, 1]);
        Assert.That((view.Cpus.VfToVm.Pinned, view.Cpus.VmToVf.Pinned), Is.EqualTo((2, 1)));

        h.Desired.ReplaceSlice("static", [Spec(0, pins: new CpuPins(1, 1))]);
        await h.ConvergedAsync("after reload");
        Assert.That((await h.Dataplane.GetRelayAsync(0)).VfToVm.PinnedCpu, Is.EqualTo(2), "an operator's pin outlives a reload of the same config");

        view = await Api(h).PinAsync(0, []);
        Assert.That((view.Cpus.VfToVm.Pinned, view.Cpus.VmToVf.Pinned), Is.EqualTo((1, 1)), "reset returns to the configured pins");
    }

    [Test]
    public async Task Pin_refuses_what_cannot_be_done_with_a_clear_message_and_changes_nothing()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0)]);
        await h.ConvergedAsync("relay 0");
        long generation = h.Desired.Get(0)!.Generation;
        ControlApiService api = Api(h);

        Assert.Multiple(async () =>
        {
            Assert.That((await Assert.ThrowsAsync<ControlRequestException>(() => api.PinAsync(0, [7])))!.Message,
                Is.EqualTo("CPU 7 runs no worker; worker CPUs are 1,2"));
            Assert.That((await Assert.ThrowsAsync<ControlRequestException>(() => api.PinAsync(5, [1])))!.Message,
                Is.EqualTo("relay 5 is not configured (see vio4wdctl status)"));
            Assert.That((await Assert.ThrowsAsync<ControlRequestException>(() => api.PinAsync(0, [1, 2, 1])))!.Message,
                Does.StartWith("give one CPU for both directions or two"));
            Assert.That((await Assert.ThrowsAsync<ControlRequestException>(() => api.StatsAsync(-1, true)))!.Message,
                Does.StartWith("the delay is 0 to"));
        });
        Assert.That(h.Desired.Get(0)!.Generation, Is.EqualTo(generation));
        Assert.That(h.Dataplane.Calls[0], Does.Not.Contain("pin"));
    }

    [Test]
    public async Task Stats_rates_are_the_counter_growth_over_the_window_and_inactive_relays_are_left_out_unless_asked()
    {
        await using var h = new Harness();
        h.Desired.ReplaceSlice("static", [Spec(0), Spec(1)]);
        await h.ConvergedAsync("two relays");
        h.Dataplane.ConnectVm(0);
        ControlApiService api = Api(h);

        using var traffic = new CancellationTokenSource();
        Task sending = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                h.Dataplane.AddTraffic(0, 100);
                await Task.Delay(10);
            }
        });
        IReadOnlyList<RelayStatsSample> active = await api.StatsAsync(300, includeInactive: false);
        await traffic.CancelAsync();
        await sending;
        IReadOnlyList<RelayStatsSample> all = await api.StatsAsync(0, includeInactive: true);

        Assert.Multiple(() =>
        {
            Assert.That(active.Select(s => s.Id), Is.EqualTo(new[] { 0 }));
            Assert.That(active[0].VfToVm.RxPacketRate, Is.GreaterThan(0));
            Assert.That(active[0].VfToVm.RxByteRate, Is.EqualTo(active[0].VfToVm.RxPacketRate * 100).Within(1e-6));
            Assert.That(active[0].VmToVf.RxPacketRate, Is.Zero);
            Assert.That(all.Select(s => s.Id), Is.EqualTo(new[] { 0, 1 }));
            Assert.That(all[1].Active, Is.False);
        });
    }
}
