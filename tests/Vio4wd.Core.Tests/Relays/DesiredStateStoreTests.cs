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
            Assert.That(store.Refusals, Is.Empty);
        });

        long generation = relay.Generation;
        store.ReplaceSlice("ovsdb", []);
        Assert.That((store.Get(3)!.Spec, store.Get(3)!.Source), Is.EqualTo((new RelaySpec(3, null, Socket3), "static")), "the device goes, the socket stays");
        Assert.That(store.Get(3)!.Generation, Is.GreaterThan(generation));
    }

    [Test]
    public void Different_sockets_or_two_devices_for_one_relay_are_refused_to_the_later_claim_and_the_holder_is_untouched()
    {
        var store = new DesiredStateStore();
        store.ReplaceSlice("static", [new RelaySpec(3, DeviceAttachment.Of("net_null0"), Socket3)]);
        long generation = store.Get(3)!.Generation;
        store.ReplaceSlice("zmq", [new RelaySpec(3, DeviceAttachment.Of("net_null1"), Socket3), new RelaySpec(4, null, Socket3 with { Path = "/other.sock" })]);
        store.ReplaceSlice("ovsdb", [new RelaySpec(4, null, Socket3 with { Path = "/third.sock" })]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(3)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null0" }));
            Assert.That(store.Get(3)!.Generation, Is.EqualTo(generation), "the holder's relay does not change at all");
            Assert.That(store.Get(4)!.Spec.Socket!.Path, Is.EqualTo("/other.sock"));
            Assert.That(store.Refusals.Select(r => (r.Source, r.RelayId, r.Reason)), Is.EqualTo(new[]
            {
                ("zmq", 3, "relay 3 is already used by relay 3 (static)"),
                ("ovsdb", 4, "relay 4 is already used by relay 4 (zmq)"),
            }));
        });
    }

    private static RelayClaim Row(string uuid, string name, int relay, string device) =>
        new(uuid, $"interface {name}", new RelaySpec(relay, DeviceAttachment.Of(device), Socket3 with { Path = $"/vio{relay}.sock" }));

    [Test]
    public void A_new_ovsdb_row_cannot_take_a_running_relay_or_its_device_whatever_its_name()
    {
        var store = new DesiredStateStore();
        store.ReplaceClaims("ovsdb", [Row("u-z", "zz-running", 3, "net_null3")]);
        long generation = store.Get(3)!.Generation;
        // "aa-..." sorts before "zz-running": the name must not decide, the time of the claim does.
        store.ReplaceClaims("ovsdb", [Row("u-z", "zz-running", 3, "net_null3"), Row("u-a", "aa-new-relay", 3, "net_null9"), Row("u-b", "ab-new-device", 5, "net_null3")]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(3)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null3" }));
            Assert.That(store.Get(3)!.Generation, Is.EqualTo(generation));
            Assert.That(store.Get(5), Is.Null, "a refused claim gets nothing, not even a socket");
            Assert.That(store.RefusalOf("ovsdb", "u-a")!.Reason, Is.EqualTo("relay 3 is already used by interface zz-running (ovsdb)"));
            Assert.That(store.RefusalOf("ovsdb", "u-b")!.Reason, Is.EqualTo("device net_null3 is already used by relay 3: interface zz-running (ovsdb)"));
            Assert.That(store.RefusalOf("ovsdb", "u-z"), Is.Null);
        });

        // The holder goes: the next in line gets the relay.
        store.ReplaceClaims("ovsdb", [Row("u-a", "aa-new-relay", 3, "net_null9"), Row("u-b", "ab-new-device", 5, "net_null3")]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(3)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null9" }));
            Assert.That(store.Get(5)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null3" }));
            Assert.That(store.Refusals, Is.Empty);
        });
    }

    [Test]
    public void A_holder_that_changes_what_it_asks_for_goes_to_the_end_of_the_line()
    {
        var store = new DesiredStateStore();
        store.ReplaceClaims("ovsdb", [Row("u-1", "eth1", 1, "net_null1")]);
        store.ReplaceClaims("ovsdb", [Row("u-1", "eth1", 1, "net_null1"), Row("u-2", "eth2", 2, "net_null2")]);
        // eth1 moves to relay 2, which eth2 holds: eth1's earlier first claim does not count.
        store.ReplaceClaims("ovsdb", [Row("u-1", "eth1", 2, "net_null1"), Row("u-2", "eth2", 2, "net_null2")]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(2)!.Spec.Device!.Devices, Is.EqualTo(new[] { "net_null2" }));
            Assert.That(store.Get(1), Is.Null);
            Assert.That(store.RefusalOf("ovsdb", "u-1")!.Reason, Is.EqualTo("relay 2 is already used by interface eth2 (ovsdb)"));
        });
    }

    [Test]
    public void Across_sources_the_earlier_claim_wins_static_then_zmq_then_ovsdb_and_the_other_way_round()
    {
        var store = new DesiredStateStore();
        store.ReplaceClaims("ovsdb", [Row("u-1", "eth1", 7, "net_null7")]);
        store.ReplaceSlice("zmq", [new RelaySpec(7, DeviceAttachment.Of("net_null8"), null)]);
        store.ReplaceSlice("static", [new RelaySpec(7, DeviceAttachment.Of("net_null9"), null), new RelaySpec(8, DeviceAttachment.Of("net_null7"), null)]);
        Assert.Multiple(() =>
        {
            Assert.That(store.Get(7)!.Source, Is.EqualTo("ovsdb"), "OVSDB claimed relay 7 first");
            Assert.That(store.Get(8), Is.Null);
            Assert.That(store.Refusals.Select(r => (r.Source, r.RelayId)), Is.EquivalentTo(new[] { ("zmq", 7), ("static", 7), ("static", 8) }));
        });

        var other = new DesiredStateStore();
        other.ReplaceSlice("static", [new RelaySpec(7, DeviceAttachment.Of("net_null9"), null)]);
        other.ReplaceClaims("ovsdb", [Row("u-1", "eth1", 7, "net_null7")]);
        Assert.That((other.Get(7)!.Source, other.RefusalOf("ovsdb", "u-1")!.Reason), Is.EqualTo(("static", "relay 7 is already used by relay 7 (static)")));
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

    private static RelayClaim Row(string name, string device, int relay) =>
        new($"uuid-{name}", $"interface {name}", new RelaySpec(relay, DeviceAttachment.Of(device), null));

    [Test]
    public void After_a_restart_the_claim_that_held_a_relay_keeps_it_whatever_order_the_rows_come_in()
    {
        // Before: vhu-b asked for relay 3 first, vhu-a later and was refused.
        var before = new DesiredStateStore();
        before.ReplaceClaims("static", [RelayClaim.ForRelay(new RelaySpec(0, DeviceAttachment.Of("net_null0"), null))]);
        before.ReplaceClaims("ovsdb", [Row("vhu-b", "0000:03:02.2", 3)]);
        before.ReplaceClaims("ovsdb", [Row("vhu-a", "0000:03:02.1", 3), Row("vhu-b", "0000:03:02.2", 3)]);
        Assert.That(before.Get(3)!.Spec.Device!.Devices[0], Is.EqualTo("0000:03:02.2"));
        IReadOnlyList<HeldClaim> held = before.HeldClaims();

        // A fresh store sees the rows in another order: without the old places the first listed wins.
        var fresh = new DesiredStateStore();
        fresh.ReplaceClaims("ovsdb", [Row("vhu-a", "0000:03:02.1", 3), Row("vhu-b", "0000:03:02.2", 3)]);
        Assert.That(fresh.Get(3)!.Spec.Device!.Devices[0], Is.EqualTo("0000:03:02.1"), "the case the restore is for");

        var after = new DesiredStateStore();
        after.RestoreOrder(held);
        after.ReplaceClaims("static", [RelayClaim.ForRelay(new RelaySpec(0, DeviceAttachment.Of("net_null0"), null))]);
        after.ReplaceClaims("ovsdb", [Row("vhu-a", "0000:03:02.1", 3), Row("vhu-b", "0000:03:02.2", 3)]);
        Assert.Multiple(() =>
        {
            Assert.That(after.Get(3)!.Spec.Device!.Devices[0], Is.EqualTo("0000:03:02.2"), "vhu-b keeps relay 3");
            Assert.That(after.Refusals.Single().Subject, Is.EqualTo("interface vhu-a"));
            Assert.That(after.HeldClaims().Select(h => (h.Source, h.Claim.Key, h.Order)), Is.EqualTo(held.Select(h => (h.Source, h.Claim.Key, h.Order))));
        });
    }

    [Test]
    public void A_restored_claim_that_changed_joins_the_end_of_the_line_and_new_claims_come_after_the_restored()
    {
        var before = new DesiredStateStore();
        before.ReplaceClaims("ovsdb", [Row("vhu-b", "0000:03:02.2", 3)]);
        before.ReplaceClaims("zmq", [new RelayClaim("relay 4", "port control: 0000:03:02.4", new RelaySpec(4, DeviceAttachment.Of("0000:03:02.4"), null), "0000:03:02.4")]);
        IReadOnlyList<HeldClaim> held = before.HeldClaims();

        var after = new DesiredStateStore();
        after.RestoreOrder(held);
        // Until a source has spoken again, what it had is still what the state file must keep.
        Assert.That(after.HeldClaims(), Is.EqualTo(held));
        after.ReplaceClaims("ovsdb", [Row("vhu-a", "0000:03:02.1", 3), Row("vhu-b", "0000:03:02.9", 3)]);
        Assert.Multiple(() =>
        {
            Assert.That(after.Get(3)!.Spec.Device!.Devices[0], Is.EqualTo("0000:03:02.1"), "vhu-b asks for something else now: it lost its place");
            Assert.That(after.HeldClaims().Where(h => h.Source == "ovsdb").Select(h => h.Order), Is.All.GreaterThan(held.Max(h => h.Order)));
            Assert.That(after.HeldClaims().Single(h => h.Source == "zmq"), Is.EqualTo(held.Single(h => h.Source == "zmq")), "port control has not spoken yet");
        });
    }
}
