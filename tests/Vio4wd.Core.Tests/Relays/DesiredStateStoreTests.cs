using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Tests.Relays;

public class DesiredStateStoreTests
{
    private static readonly VhostSocketSpec Socket3 = new("/run/vio/virtio-forwarder3.sock", VhostMode.Server);

    [Test]
    public void A_socket_from_one_source_and_a_device_from_another_make_one_relay_shown_with_the_devices_source()
    {
        var store = new DesiredStateStore();
        store.ReplaceSlice("static", [new RelaySpec(3, null, Socket3)]);
        store.ReplaceSlice("ovsdb", [new RelaySpec(3, DeviceAttachment.Of("0000:05:08.3"), Socket3)]);
        DesiredRelay relay = store.Get(3)!;
        Assert.Multiple(() =>
        {
            Assert.That(relay.Spec, Is.EqualTo(new RelaySpec(3, DeviceAttachment.Of("0000:05:08.3"), Socket3)));
            Assert.That(relay.Source, Is.EqualTo("ovsdb"));
            Assert.That(relay.Conflicts, Is.Empty);
        });

        long generation = relay.Generation;
        store.ReplaceSlice("ovsdb", []);
        Assert.That((store.Get(3)!.Spec, store.Get(3)!.Source), Is.EqualTo((new RelaySpec(3, null, Socket3), "static")), "the device goes, the socket stays");
        Assert.That(store.Get(3)!.Generation, Is.GreaterThan(generation));
    }

    [Test]
    public void Different_sockets_or_two_devices_for_one_relay_are_a_conflict_kept_by_the_first()
    {
        var store = new DesiredStateStore();
        store.ReplaceSlice("static", [new RelaySpec(3, DeviceAttachment.Of("net_null0"), Socket3)]);
        store.ReplaceSlice("zmq", [new RelaySpec(3, DeviceAttachment.Of("net_null1"), Socket3), new RelaySpec(4, null, Socket3 with { Path = "/other.sock" })]);
        store.ReplaceSlice("ovsdb", [new RelaySpec(4, null, Socket3 with { Path = "/third.sock" })]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(3)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null0" }));
            Assert.That(store.Get(3)!.Conflicts, Is.EqualTo(new[] { "relay 3 is also requested by zmq" }));
            Assert.That(store.Get(4)!.Spec.Socket!.Path, Is.EqualTo("/other.sock"));
            Assert.That(store.Get(4)!.Conflicts, Is.EqualTo(new[] { "relay 4 is also requested by ovsdb" }));
        });
    }

    [Test]
    public void An_operators_pin_applies_to_a_merged_relay_and_survives_its_sources_changing()
    {
        var store = new DesiredStateStore();
        store.ReplaceSlice("static", [new RelaySpec(3, null, Socket3, new CpuPins(1, 1))]);
        store.SetPinOverride(3, new CpuPins(2, 3));
        store.ReplaceSlice("ovsdb", [new RelaySpec(3, DeviceAttachment.Of("0000:05:08.3"), Socket3)]);
        Assert.That(store.Get(3)!.Spec.Pins, Is.EqualTo(new CpuPins(2, 3)));
        store.SetPinOverride(3, null);
        Assert.That(store.Get(3)!.Spec.Pins, Is.EqualTo(new CpuPins(1, 1)));
    }
}
