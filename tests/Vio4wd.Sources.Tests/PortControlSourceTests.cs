using Vio4wd.Contracts;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Sources;
using Vio4wd.Sources.Zmq;
using Vio4wd.Zmq;
using Op = Vio4wd.Contracts.Protocol.PortControlRequest.Types.Op;
using Status = Vio4wd.Contracts.Protocol.PortControlResponse.Types.Status;

namespace Vio4wd.Sources.Tests;

/// <summary>
/// Port control's answers to requests it can judge without the dataplane: the original's
/// validation (a bare ERROR) and its error codes with their source strings.
/// </summary>
public class PortControlSourceTests
{
    private const string Add = "virtio_forwarder_add_vf2()";
    private const string BondAdd = "virtio_forwarder_bond_add()";
    private const string Remove = "virtio_forwarder_remove_vf2()";
    private const string AddSock = "virtio_add_sock_dev_pair()";
    private const string RemoveSock = "virtio_remove_sock_dev_pair()";
    private const string Query = "virtio_query_pci()";

    // The static configuration holds relay 0 with VF 0000:00:01.0 and relay 5's socket.
    private static PortControlSource Source(out DesiredStateStore desired)
    {
        desired = new DesiredStateStore();
        desired.ReplaceSlice("static", [
            new RelaySpec(0, DeviceAttachment.Of("0000:00:01.0"), new VhostSocketSpec("/run/vio0.sock", VhostMode.Server)),
            new RelaySpec(5, null, new VhostSocketSpec("/run/vio5.sock", VhostMode.Server))]);
        var source = new PortControlSource(new ZmqBinding(new ZmqEndpoint("ipc:///unused"), ZmqSecurity.IpcOnly, _ => { }), VhostMode.Server, ["/run"], NullLogger.Instance);
        source.Use(new SourceContext("zmq", 32, desired, new RelayStatusStore(), new RejectedRequests(), new DaemonParts()));
        return source;
    }

    private static PortControlRequest Request(Op op, uint? relay = null, string? path = null, string? name = null, uint? mode = null, bool conditional = false, params string[] pcis)
    {
        var request = new PortControlRequest { Op = op, Conditional = conditional };
        if (relay is { } id)
        {
            request.VirtioId = id;
        }

        if (path is not null)
        {
            request.VhostPath = path;
        }

        if (name is not null)
        {
            request.Name = name;
        }

        if (mode is { } m)
        {
            request.Mode = m;
        }

        foreach (string pci in pcis)
        {
            Assert.That(Contracts.PciAddress.TryParse(pci, out Contracts.PciAddress a), Is.True, pci);
            request.PciAddrs.Add(new PortControlRequest.Types.PciAddress { Domain = a.Domain, Bus = a.Bus, Slot = a.Slot, Function = a.Function });
        }

        return request;
    }

    private static async Task<PortControlResponse> AskAsync(PortControlSource source, byte[] bytes, int frames = 1) =>
        PortControlResponse.Parser.ParseFrom(await source.HandleAsync(new ZmqRequest(bytes, frames)));

    private static IEnumerable<TestCaseData> Refusals()
    {
        TestCaseData Case(string name, PortControlRequest request, int code, string source) => new TestCaseData(request, code, source).SetName(name);
        yield return Case("ADD: relay out of range", Request(Op.Add, 40, pcis: "0000:00:02.0"), 1, Add);
        yield return Case("ADD: relay id 2^31, not a negative id", Request(Op.Add, 0x8000_0000, pcis: "0000:00:02.0"), 1, Add);
        yield return Case("ADD: relay id 2^32-1", Request(Op.Add, uint.MaxValue, pcis: "0000:00:02.0"), 1, Add);
        yield return Case("REMOVE: relay id 2^31", Request(Op.Remove, 0x8000_0000, pcis: "0000:00:02.0"), 1, Remove);
        yield return Case("ADD: relay has a device from another source", Request(Op.Add, 0, pcis: "0000:00:02.0"), 8, Add);
        yield return Case("ADD: device used by another relay", Request(Op.Add, 1, pcis: "0000:00:01.0"), 2, Add);
        yield return Case("ADD: device used, same address spelled short", Request(Op.Add, 1, pcis: "00:01.0"), 2, Add);
        yield return Case("bond ADD: a member used by another relay", Request(Op.Add, 2, name: "bond0", pcis: ["0000:00:02.0", "0000:00:01.0"]), 3, BondAdd);
        yield return Case("REMOVE: relay out of range", Request(Op.Remove, 40, pcis: "0000:00:01.0"), 1, Remove);
        yield return Case("REMOVE: another source's device", Request(Op.Remove, 0, pcis: "0000:00:01.0"), 3, Remove);
        yield return Case("REMOVE: nothing there", Request(Op.Remove, 9, pcis: "0000:00:09.0"), 4, Remove);
        yield return Case("ADD_SOCK: no path", Request(Op.AddSock, pcis: "0000:00:02.0"), -1, AddSock);
        yield return Case("ADD_SOCK: socket of another relay", Request(Op.AddSock, path: "/run/vio5.sock"), 1, AddSock);
        yield return Case("ADD_SOCK: device in use", Request(Op.AddSock, path: "/run/new.sock", pcis: "0000:00:01.0"), -17, AddSock);
        yield return Case("REMOVE_SOCK: nothing named", Request(Op.RemoveSock), -1, RemoveSock);
        yield return Case("REMOVE_SOCK: unknown socket", Request(Op.RemoveSock, path: "/run/none.sock"), 1, RemoveSock);
        yield return Case("QUERY_PCI: unknown socket", Request(Op.QueryPci, path: "/run/none.sock"), 2, Query);
    }

    [TestCaseSource(nameof(Refusals))]
    public async Task Refusals_carry_the_originals_code_and_source_and_change_nothing(PortControlRequest request, int code, string source)
    {
        PortControlSource port = Source(out DesiredStateStore desired);
        long generation = desired.Get(0)!.Generation;
        PortControlResponse response = await AskAsync(port, request.ToByteArray());
        Assert.Multiple(() =>
        {
            Assert.That((response.Status, response.ErrorCode, response.ErrorCodeSource), Is.EqualTo((Status.Error, code, source)));
            Assert.That(desired.All().Select(r => r.Spec.RelayId), Is.EquivalentTo(new[] { 0, 5 }), "nothing added or removed");
            Assert.That(desired.Get(0)!.Generation, Is.EqualTo(generation));
        });
    }

    private static IEnumerable<TestCaseData> Invalid()
    {
        TestCaseData Case(string name, PortControlRequest request) => new TestCaseData(request.ToByteArray(), 1).SetName(name);
        yield return Case("nine addresses", Request(Op.Add, 1, name: "bond0", pcis: [.. Enumerable.Range(0, 9).Select(i => $"0000:00:03.{i % 8}").Distinct(), "0000:00:04.0"]));
        yield return Case("an address twice", Request(Op.Add, 1, name: "bond0", pcis: ["0000:00:03.0", "0000:00:03.0"]));
        yield return Case("bond add with one address", Request(Op.Add, 1, name: "bond0", pcis: "0000:00:03.0"));
        yield return Case("several addresses without a name", Request(Op.Add, 1, pcis: ["0000:00:03.0", "0000:00:03.1"]));
        yield return Case("a name that is no name", Request(Op.Add, 1, name: "bond 0; rm", pcis: ["0000:00:03.0", "0000:00:03.1"]));
        yield return Case("a bond mode DPDK lacks", Request(Op.Add, 1, name: "bond0", mode: 7, pcis: ["0000:00:03.0", "0000:00:03.1"]));
        yield return Case("ADD without a relay", Request(Op.Add, pcis: "0000:00:03.0"));
        yield return Case("ADD_SOCK with a relay", Request(Op.AddSock, 3, path: "/run/x.sock"));
        yield return Case("QUERY_PCI without a path", Request(Op.QueryPci));
        yield return Case("a relative socket path", Request(Op.AddSock, path: "run/x.sock"));
        yield return Case("a socket outside the socket directory", Request(Op.AddSock, path: "/var/run/dbus/system_bus_socket"));
        yield return Case("a way out of the socket directory", Request(Op.AddSock, path: "/run/../etc/x.sock"));
        yield return new TestCaseData(new byte[] { 0xff, 0x01, 0x02 }, 1).SetName("garbage");
        yield return new TestCaseData(new byte[400], 1).SetName("over the original's 384 bytes");
        yield return new TestCaseData(Request(Op.QueryPci, path: "/run/vio5.sock").ToByteArray(), 2).SetName("two frames");
    }

    [TestCaseSource(nameof(Invalid))]
    public async Task Requests_that_fail_validation_get_a_bare_error_and_change_nothing(byte[] bytes, int frames)
    {
        PortControlSource port = Source(out DesiredStateStore desired);
        PortControlResponse response = await AskAsync(port, bytes, frames);
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(Status.Error));
            Assert.That(response.HasErrorCode, Is.False, "the original answered validation failures without a code");
            Assert.That(desired.All().Select(r => r.Spec.RelayId), Is.EquivalentTo(new[] { 0, 5 }));
        });
    }

    [Test]
    public async Task Query_pci_names_the_device_of_any_sources_relay_and_a_conditional_remove_of_nothing_is_fine()
    {
        PortControlSource port = Source(out _);
        PortControlResponse query = await AskAsync(port, Request(Op.QueryPci, path: "/run/vio0.sock").ToByteArray());
        PortControlResponse remove = await AskAsync(port, Request(Op.Remove, 9, conditional: true, pcis: "0000:00:09.0").ToByteArray());
        Assert.Multiple(() =>
        {
            Assert.That((query.Status, query.QueryString), Is.EqualTo((Status.Ok, "0000:00:01.0")));
            Assert.That(remove.Status, Is.EqualTo(Status.Ok));
        });
    }

    [Test]
    public void Add_sock_may_name_a_socket_in_a_directory_the_operator_listed_and_the_refusal_elsewhere_names_the_setting()
    {
        var source = new PortControlSource(new ZmqBinding(new ZmqEndpoint("ipc:///unused"), ZmqSecurity.IpcOnly, _ => { }), VhostMode.Client,
            ["/run/vio", "/var/run/openvswitch"], NullLogger.Instance);
        // Neutron's name for a port's socket: vhu + the port id, 14 characters.
        byte[] neutron = Request(Op.AddSock, path: "/var/run/openvswitch/vhu2f1c7a34-7a", pcis: "0000:00:02.0").ToByteArray();
        byte[] elsewhere = Request(Op.AddSock, path: "/var/lib/other/vhu2f1c7a34-7a", pcis: "0000:00:02.0").ToByteArray();
        Assert.Multiple(() =>
        {
            Assert.That(source.Accepts(new ZmqRequest(neutron, 1), out _, out _, out string? fine), Is.True, fine);
            Assert.That(source.Accepts(new ZmqRequest(elsewhere, 1), out _, out _, out string? refused), Is.False);
            Assert.That(refused, Is.EqualTo("vhost_path '/var/lib/other/vhu2f1c7a34-7a' is not in the socket directory /run/vio or VIRTIOFWD_VHOST_SOCKET_DIRS (/var/run/openvswitch)"));
        });
    }
}
