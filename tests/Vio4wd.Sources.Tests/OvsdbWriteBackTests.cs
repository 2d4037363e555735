using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Sources.Ovsdb;

namespace Vio4wd.Sources.Tests;

public class OvsdbWriteBackTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private static OvsdbInterface Row(string name, params (string Key, string Value)[] ids) =>
        new($"uuid-{name}", name, ids.ToDictionary(p => p.Key, p => p.Value));

    private static RelayStatus Status(int id, bool ready, string reason = "Forwarding", string message = "packets flow both ways") =>
        new RelayStatus { Id = id, Spec = new RelaySpec(id, DeviceAttachment.Of($"net_null{id}"), new VhostSocketSpec($"/run/vio{id}.sock", VhostMode.Server)) }
            .WithCondition(ConditionTypes.Ready, ready, reason, message, Now);

    private static Dictionary<string, string?> Keys(string state, string? socket, string? relay) =>
        new Dictionary<string, string?> { [OvsdbWriteBack.StateKey] = state, [OvsdbWriteBack.SocketKey] = socket, [OvsdbWriteBack.RelayIdKey] = relay };

    // Each case: the row's verdict, its relay's status, a refusal of its claim, and the keys it should end up with.
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(null, Status(3, ready: true), null, Keys("ready", "/run/vio3.sock", "3")).SetName("ready relay");
        yield return new TestCaseData(null, Status(3, ready: false, "VhostNotConnected", "waiting"), null, Keys("pending", "/run/vio3.sock", "3")).SetName("waiting for its VM");
        yield return new TestCaseData(null, null, null, Keys("pending", null, "3")).SetName("not reconciled yet");
        yield return new TestCaseData(null, Status(3, ready: false, "Error", "attaching failed"), null, Keys("error: attaching failed", "/run/vio3.sock", "3")).SetName("dataplane refused");
        yield return new TestCaseData("relay 40 is out of range", null, null, Keys("error: relay 40 is out of range", null, null)).SetName("bad row");
        yield return new TestCaseData(null, Status(3, ready: true), "relay 3 is already used by interface a (ovsdb)", Keys("error: relay 3 is already used by interface a (ovsdb)", null, null)).SetName("refused claim, even with the holder ready");
    }

    [TestCaseSource(nameof(Cases))]
    public void A_flagged_row_is_told_its_state_socket_and_relay(string? error, RelayStatus? status, string? refusal, IReadOnlyDictionary<string, string?> expected)
    {
        OvsdbInterface row = Row("eth3", ("virtio_forwarder", "1"));
        var verdict = new InterfaceVerdict(row, error is null ? 3 : null, "net_null3", error);
        IReadOnlyList<RowWriteBack> changes = OvsdbWriteBack.Changes([row], [verdict], _ => status, _ => refusal);
        Assert.That(changes.Single().Keys, Is.EquivalentTo(expected));
    }

    [Test]
    public void A_row_that_already_says_it_is_not_written_and_an_unflagged_row_loses_only_our_keys()
    {
        OvsdbInterface current = Row("eth3", ("virtio_forwarder", "1"), (OvsdbWriteBack.StateKey, "ready"), (OvsdbWriteBack.SocketKey, "/run/vio3.sock"), (OvsdbWriteBack.RelayIdKey, "3"));
        OvsdbInterface unflagged = Row("eth4", ("other", "x"), (OvsdbWriteBack.StateKey, "ready"));
        OvsdbInterface untouched = Row("eth5", ("other", "y"));
        IReadOnlyList<RowWriteBack> changes = OvsdbWriteBack.Changes([current, unflagged, untouched],
            [new InterfaceVerdict(current, 3, "net_null3", null)], _ => Status(3, ready: true), _ => null);
        Assert.That(changes.Select(c => (c.Name, c.Keys.Values.All(v => v is null))), Is.EqualTo(new[] { ("eth4", true) }));
    }
}
