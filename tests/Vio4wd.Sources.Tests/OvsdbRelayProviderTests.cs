using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Config;
using Vio4wd.Sources.Ovsdb;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Testing;

namespace Vio4wd.Sources.Tests;

public class OvsdbRelayProviderTests
{
    private static OvsdbInterface Row(string name, params (string Key, string Value)[] ids) =>
        new($"uuid-{name}", name, ids.ToDictionary(p => p.Key, p => p.Value));

    // The rows' claims as the desired-state store decides them: the specs that hold, and every
    // row's reason (the provider's verdict, or the store's refusal of a later claim).
    // Most rows here name vdevs, which only an operator's opt-in lets OVSDB do.
    private static (IReadOnlyList<RelaySpec> Specs, IReadOnlyList<InterfaceVerdict> Verdicts) Evaluate(params OvsdbInterface[] rows) =>
        Evaluate(allowDevargs: true, rows);

    private static (IReadOnlyList<RelaySpec> Specs, IReadOnlyList<InterfaceVerdict> Verdicts) Evaluate(bool allowDevargs, params OvsdbInterface[] rows)
    {
        using var sysfs = new TempDirectory();
        var provider = new OvsdbRelayProvider(new NetdevResolver(sysfs.Path, _ => null), 32,
            id => new VhostSocketSpec($"/run/vio/virtio-forwarder{id}.sock", VhostMode.Server), _ => null, allowDevargs);
        (IReadOnlyList<RelayClaim> claims, IReadOnlyList<InterfaceVerdict> verdicts) = provider.Evaluate(rows);
        var store = new DesiredStateStore();
        store.ReplaceClaims("ovsdb", claims);
        return (
            [.. store.All().Select(r => r.Spec).OrderBy(s => s.RelayId)],
            [.. verdicts.Select(v => store.RefusalOf("ovsdb", v.Interface.Uuid) is { } refused ? v with { Error = refused.Reason } : v)]);
    }

    [Test]
    public void A_flagged_interface_with_an_explicit_device_becomes_a_relay_with_the_template_socket_and_unflagged_ones_are_ignored()
    {
        var (specs, verdicts) = Evaluate(
            Row("eth100", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_tap0,iface=vf0"), ("virtio_forwarder_relay", "5")),
            Row("eth101", ("virtio_relay", "0x10"), ("virtio_forwarder_dev", "05:08.1"), ("virtio_forwarder_relay", "6")),
            Row("eth102", ("other", "x")));
        Assert.Multiple(() =>
        {
            Assert.That(specs, Is.EqualTo(new[]
            {
                new RelaySpec(5, DeviceAttachment.Of("net_tap0,iface=vf0"), new VhostSocketSpec("/run/vio/virtio-forwarder5.sock", VhostMode.Server)),
                new RelaySpec(6, DeviceAttachment.Of("0000:05:08.1"), new VhostSocketSpec("/run/vio/virtio-forwarder6.sock", VhostMode.Server)),
            }));
            Assert.That(verdicts.Select(v => (v.Interface.Name, v.RelayId, v.Error)), Is.EqualTo(new[] { ("eth100", (int?)5, (string?)null), ("eth101", 6, null) }));
        });
    }

    [Test]
    public void Bad_rows_get_a_reason_and_take_nothing_from_good_ones()
    {
        var (specs, verdicts) = Evaluate(
            Row("a-banana", ("virtio_forwarder", "banana"), ("virtio_forwarder_dev", "net_null0"), ("virtio_forwarder_relay", "1")),
            Row("b-half", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_null1")),
            Row("c-range", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_null2"), ("virtio_forwarder_relay", "32")),
            Row("d-good", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_null3"), ("virtio_forwarder_relay", "3")),
            Row("e-same-relay", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_null4"), ("virtio_forwarder_relay", "3")),
            Row("f-same-device", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_null3"), ("virtio_forwarder_relay", "4")),
            Row("g-bad-device", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "not a device"), ("virtio_forwarder_relay", "5")),
            Row("h-unresolvable", ("virtio_forwarder", "1")));
        Assert.Multiple(() =>
        {
            Assert.That(specs.Select(s => s.RelayId), Is.EqualTo(new[] { 3 }));
            Assert.That(verdicts.ToDictionary(v => v.Interface.Name, v => v.Error), Is.EqualTo(new Dictionary<string, string?>
            {
                ["a-banana"] = "external_ids:virtio_forwarder='banana' is not an integer",
                ["b-half"] = "external_ids:virtio_forwarder_dev and virtio_forwarder_relay go together; only virtio_forwarder_dev is set",
                ["c-range"] = "relay 32 is out of range (relays are 0..31)",
                ["d-good"] = null,
                ["e-same-relay"] = "relay 3 is already used by interface d-good (ovsdb)",
                ["f-same-device"] = "device net_null3 is already used by relay 3: interface d-good (ovsdb)",
                ["g-bad-device"] = "external_ids:virtio_forwarder_dev='not a device': a device must be a PCI address or a DPDK device string without spaces",
                ["h-unresolvable"] = "no network interface h-unresolvable on this host; set external_ids:virtio_forwarder_dev and virtio_forwarder_relay",
            }));
        });
    }

    [Test]
    public void Without_the_operators_opt_in_rows_name_plain_pci_addresses_only()
    {
        var (specs, verdicts) = Evaluate(
            allowDevargs: false,
            Row("a-pcap", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_pcap9,tx_pcap=/etc/shadow"), ("virtio_forwarder_relay", "5")),
            Row("b-iface", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "net_pcap8,iface=eth0"), ("virtio_forwarder_relay", "6")),
            Row("c-pci-args", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "0000:05:08.1,representor=[0-3]"), ("virtio_forwarder_relay", "7")),
            Row("d-pci", ("virtio_forwarder", "1"), ("virtio_forwarder_dev", "05:08.2"), ("virtio_forwarder_relay", "8")));
        const string refusal = "runtime sources take PCI addresses only; DPDK device strings come from the config file unless VIRTIOFWD_ALLOW_RUNTIME_DEVARGS is set";
        Assert.Multiple(() =>
        {
            Assert.That(specs, Is.EqualTo(new[]
            {
                new RelaySpec(8, DeviceAttachment.Of("0000:05:08.2"), new VhostSocketSpec("/run/vio/virtio-forwarder8.sock", VhostMode.Server)),
            }));
            Assert.That(verdicts.ToDictionary(v => v.Interface.Name, v => v.Error), Is.EqualTo(new Dictionary<string, string?>
            {
                ["a-pcap"] = $"external_ids:virtio_forwarder_dev='net_pcap9,tx_pcap=/etc/shadow': {refusal}",
                ["b-iface"] = $"external_ids:virtio_forwarder_dev='net_pcap8,iface=eth0': {refusal}",
                ["c-pci-args"] = $"external_ids:virtio_forwarder_dev='0000:05:08.1,representor=[0-3]': {refusal}",
                ["d-pci"] = null,
            }));
        });
    }

    [TestCase("1", true)]
    [TestCase("0", true)]
    [TestCase("-3", true)]
    [TestCase("0x1F", true)]
    [TestCase("017", true)]
    [TestCase("018", false)]
    [TestCase("1abc", false)]
    [TestCase("", false)]
    [TestCase("2024-01-01T00:00:00Z", false)]
    public void Flag_values_are_integers_as_strtol_reads_them(string value, bool accepted) =>
        Assert.That(OvsdbRelayProvider.TryParseInteger(value, out _), Is.EqualTo(accepted));
}
