using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Testing;

namespace Vio4wd.Dataplane.Tests;

/// <summary>Control operations: bad requests get clear errors and change nothing; events and load are reported.</summary>
[TestFixture]
[NonParallelizable]
public class RelayControlTests
{
    private const int Relay = 10;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static NativeDataplane Dataplane => DataplaneFixture.Dataplane;

    [TearDown]
    public Task CleanUp() => RelayTrafficTests.CleanUpAsync(Relay);

    [Test]
    public async Task Bad_requests_are_refused_with_a_message_naming_the_problem_and_change_nothing()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("not-a-socket"), "x");
        await Dataplane.RegisterSocketAsync(Relay, dir.File("ok.sock"), VhostMode.Server);
        await Dataplane.AttachDeviceAsync(Relay, DeviceAttachment.Of("net_null_ctl"));
        RelayState healthy = await Dataplane.GetRelayAsync(Relay);

        (Func<Task> call, string message)[] cases =
        [
            (() => Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Of("no_such_driver0")), "'no_such_driver0' is not a DPDK device string"),
            // DPDK 22.11's devargs parser crashed the process on these (found by fuzz/native).
            (() => Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Of("bus")), "'bus' is not a DPDK device string"),
            (() => Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Of(",bus")), "',bus' is not a DPDK device string"),
            (() => Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Of("net_null_ctl")), "device 'net_null_ctl' is already attached to relay 10"),
            (() => Dataplane.AttachDeviceAsync(Relay, DeviceAttachment.Of("net_null_other")), "relay 10 already has device 'net_null_ctl'"),
            (() => Dataplane.AttachDeviceAsync(Dataplane.MaxRelays, DeviceAttachment.Of("net_null_x")), $"relay {Dataplane.MaxRelays} does not exist"),
            (() => Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Bond(BondMode.ActiveBackup, ["net_null_bm0", "net_null_bm1", "no_such_thing"])), "'no_such_thing' is not a DPDK device string"),
            (() => Dataplane.DetachDeviceAsync(Relay + 1), "relay 11 has no device"),
            (() => Dataplane.RegisterSocketAsync(Relay + 1, "relative.sock", VhostMode.Server), "vhost-user socket path 'relative.sock' is not absolute"),
            (() => Dataplane.RegisterSocketAsync(Relay + 1, dir.File("ok.sock"), VhostMode.Server), "is already used by relay 10"),
            (() => Dataplane.RegisterSocketAsync(Relay + 1, dir.File("not-a-socket"), VhostMode.Server), "exists and is not a socket"),
            (() => Dataplane.RegisterSocketAsync(Relay + 1, "/tmp/" + new string('x', 120), VhostMode.Server), "is longer than 107 characters"),
            (() => Dataplane.RegisterSocketAsync(Relay, dir.File("second.sock"), VhostMode.Server), "relay 10 already has socket"),
            (() => Dataplane.UnregisterSocketAsync(Relay + 1), "relay 11 has no socket"),
            (() => Dataplane.SetCpusAsync(Relay, 0, null), "CPU 0 is not a worker CPU"),
            (() => Dataplane.SetCpusAsync(Relay, 64, null), "CPU 64 is not a worker CPU"),
            (() => Dataplane.GetRelayAsync(-1), "relay -1 does not exist"),
        ];
        foreach ((Func<Task> call, string message) in cases)
        {
            DataplaneException e = (await Assert.ThrowsAsync<DataplaneException>(async () => await call()))!;
            Assert.That(e.Message, Does.Contain(message));
        }

        // The half-built bond was taken apart: its members are free again.
        await Dataplane.AttachDeviceAsync(Relay + 1, DeviceAttachment.Of("net_null_bm0"));
        await Dataplane.DetachDeviceAsync(Relay + 1);

        RelayState after = await Dataplane.GetRelayAsync(Relay);
        IReadOnlyList<RelayState> listed = await Dataplane.ListRelaysAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(listed.Select(r => r.Id), Does.Contain(Relay).And.Not.Contain(Relay + 1), "the list holds configured relays only");
            Assert.That(listed.Single(r => r.Id == Relay).Device.Devices, Is.EqualTo(new[] { "net_null_ctl" }));
            Assert.That(after.Vm.Socket, Is.EqualTo(healthy.Vm.Socket));
            Assert.That(after.Device.Devices, Is.EqualTo(healthy.Device.Devices));
            Assert.That(after.Device.Started, Is.True);
            Assert.That(File.Exists(dir.File("not-a-socket")), Is.True, "a file that is not a socket is left alone");
            Assert.That((await Dataplane.GetRelayAsync(Relay + 1)).IsEmpty, Is.True, "failed requests left nothing behind");
        });
    }

    [Test]
    public async Task Workers_with_no_relay_ready_sleep_instead_of_spinning()
    {
        // A socket without a VM and a device without a VM: nothing can flow.
        using var dir = new TempDirectory();
        await Dataplane.RegisterSocketAsync(Relay, dir.File("idle.sock"), VhostMode.Server);
        await Dataplane.AttachDeviceAsync(Relay, DeviceAttachment.Of("net_null_idle"));
        WorkerLoad[] before = [.. await Dataplane.GetWorkerLoadsAsync()];
        await Task.Delay(1000);
        WorkerLoad[] after = [.. await Dataplane.GetWorkerLoadsAsync()];
        for (int i = 0; i < after.Length; i++)
        {
            // A spinning worker polls millions of times a second; a sleeping one about 1000.
            Assert.That(after[i].Polls - before[i].Polls, Is.LessThan(5000), $"polls of worker {after[i].Cpu} in one second");
        }

        RelayState state = await Dataplane.GetRelayAsync(Relay);
        Assert.That(state.VfToVmStats.DroppedUnavailablePackets, Is.GreaterThan(0), "the VF is still drained, its frames counted as dropped");
    }

    [Test]
    public async Task Vm_and_device_changes_are_reported_as_events_and_worker_load_is_measured()
    {
        using var dir = new TempDirectory();
        string socket = dir.File("ev.sock");
        while (Dataplane.Events.TryRead(out _))
        {
            // Events of earlier tests.
        }

        WorkerLoad[] before = [.. await Dataplane.GetWorkerLoadsAsync()];
        await Dataplane.RegisterSocketAsync(Relay, socket, VhostMode.Server);
        await Dataplane.AttachDeviceAsync(Relay, DeviceAttachment.Of("net_null_ev"));
        await using (var vm = Testpmd.Start([$"net_virtio_user0,path={socket}"], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]))
        {
            await Eventually.HoldsAsync(() => Dataplane.GetRelayAsync(Relay), s => s.VfToVmStats.TxPackets > 10000, Patience, "traffic", () => vm.Output);
            vm.Kill();
        }

        await Dataplane.DetachDeviceAsync(Relay);
        var seen = new List<DataplaneEventType>();
        using var timeout = new CancellationTokenSource(Patience);
        // The vhost thread notices the killed VM on its own time: the detach may be reported first.
        while (!seen.Contains(DataplaneEventType.DeviceDetached) || !seen.Contains(DataplaneEventType.VmDisconnected))
        {
            DataplaneEvent e = await Dataplane.Events.ReadAsync(timeout.Token);
            if (e.Relay == Relay)
            {
                seen.Add(e.Type);
            }
        }

        WorkerLoad[] after = [.. await Dataplane.GetWorkerLoadsAsync()];
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.SupersetOf(new[]
            {
                DataplaneEventType.SocketRegistered, DataplaneEventType.DeviceAttached, DataplaneEventType.VmConnected,
                DataplaneEventType.QueueState, DataplaneEventType.VmDisconnected, DataplaneEventType.DeviceDetached,
            }));
            Assert.That(seen.IndexOf(DataplaneEventType.VmConnected), Is.LessThan(seen.IndexOf(DataplaneEventType.VmDisconnected)), "in order");
            Assert.That(after.Select(w => w.Cpu), Is.EqualTo(DataplaneFixture.Workers));
            Assert.That(after.Sum(w => (double)w.BusyCycles) > before.Sum(w => (double)w.BusyCycles), Is.True, "forwarding counted as busy cycles");
            Assert.That(after.Sum(w => (double)w.Packets) > before.Sum(w => (double)w.Packets) + 10000, Is.True, "packets counted per worker");
            Assert.That(after.All(w => w.CyclesPerSecond > 0 && w.BusyFraction is >= 0 and <= 1), Is.True);
        });
    }
}
