using Vio4wd.Testing;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Tests.Reconciliation;

/// <summary>A running controller over a <see cref="FakeDataplane"/>, and a way to wait for convergence.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public Harness(ControllerOptions? options = null, TimeProvider? time = null)
    {
        Controller = new RelayController(new DataplaneHandle(Dataplane), Desired, Statuses, Results, [Plugs],
            options ?? new ControllerOptions { BackoffBase = TimeSpan.FromMilliseconds(10), ResyncPeriod = TimeSpan.FromMilliseconds(200) }, time);
        _run = Controller.RunAsync(_stop.Token);
    }

    public FakeDataplane Dataplane { get; } = new();

    public static RelaySpec Spec(int id, string device = "", string? socket = null, CpuPins? pins = null) =>
        new(id, DeviceAttachment.Of(device.Length > 0 ? device : $"net_null{id}"), new VhostSocketSpec(socket ?? $"/tmp/vf{id}.sock", VhostMode.Server), pins);

    public DesiredStateStore Desired { get; } = new();

    public RelayStatusStore Statuses { get; } = new();

    public PlugTracer Plugs { get; } = new();

    public PassResults Results { get; } = new();

    public RelayController Controller { get; }

    public Task ConvergedAsync(string what) => Eventually.UntilAsync(MatchesAsync, $"convergence: {what}", Patience);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        Controller.Dispose();
        _stop.Dispose();
    }

    private async Task<bool> MatchesAsync()
    {
        IReadOnlyList<RelayState> live = await Dataplane.ListRelaysAsync();
        IReadOnlyCollection<DesiredRelay> want = Desired.All();
        return live.Count == want.Count(w => w.Spec.Device is not null || w.Spec.Socket is not null)
            && want.All(w => live.Any(l => l.Id == w.Spec.RelayId
                && l.Vm.Socket == w.Spec.Socket?.Path
                && RelaySpec.SameDevice(l.Device.Attached ? DeviceAttachment.Of(l.Device.Devices[0]) : null, w.Spec.Device)
                && Statuses.Get(l.Id)?.ObservedGeneration == w.Generation));
    }
}
