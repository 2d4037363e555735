using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Sources;
using Vio4wd.Core.Tests.Reconciliation;
using Vio4wd.Sources.Zmq;
using Vio4wd.Testing;
using Vio4wd.Zmq;
using Op = Vio4wd.Contracts.Protocol.PortControlRequest.Types.Op;
using Status = Vio4wd.Contracts.Protocol.PortControlResponse.Types.Status;

namespace Vio4wd.Sources.Tests;

/// <summary>
/// Port control answers from the pass that applied its change, awaited through the controller's
/// pass results: not before the dataplane acted, and a change the dataplane refused is taken back.
/// </summary>
public class PortControlPassTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static PortControlSource Source(Harness h)
    {
        var source = new PortControlSource(new ZmqBinding(new ZmqEndpoint("ipc:///unused"), ZmqSecurity.IpcOnly, _ => { }), VhostMode.Server, ["/run"], NullLogger.Instance);
        source.Use(new SourceContext("zmq", 32, h.Desired, h.Statuses, new RejectedRequests(), new DaemonParts(), passes: h.Results));
        return source;
    }

    private static byte[] Add(uint relay, string pci)
    {
        Assert.That(Contracts.PciAddress.TryParse(pci, out Contracts.PciAddress a), Is.True);
        var request = new PortControlRequest { Op = Op.Add, VirtioId = relay };
        request.PciAddrs.Add(new PortControlRequest.Types.PciAddress { Domain = a.Domain, Bus = a.Bus, Slot = a.Slot, Function = a.Function });
        return request.ToByteArray();
    }

    private static async Task<PortControlResponse> AskAsync(PortControlSource source, byte[] bytes) =>
        PortControlResponse.Parser.ParseFrom(await source.HandleAsync(new ZmqRequest(bytes, 1)));

    [Test]
    public async Task An_add_is_answered_once_the_pass_that_attached_the_vf_is_done()
    {
        await using var h = new Harness();
        PortControlSource port = Source(h);
        h.Dataplane.Hold();
        Task<PortControlResponse> add = AskAsync(port, Add(1, "0000:00:02.0"));
        await h.Dataplane.Held.WaitAsync(Patience);
        // The pass is inside the dataplane's attach: no answer yet, and no result for the new generation.
        long generation = h.Desired.GenerationOf(1);
        Assert.Multiple(() =>
        {
            Assert.That(add.IsCompleted, Is.False, "answered before the dataplane attached the VF");
            Assert.That(h.Results.Last(1), Is.Null);
        });

        h.Dataplane.Release();
        PortControlResponse response = await add.WaitAsync(Patience);
        PassResult? pass = h.Results.Last(1);
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(Status.Ok));
            Assert.That(pass, Is.Not.Null);
            Assert.That((pass!.Outcome, pass.Generation), Is.EqualTo((PassOutcome.Applied, generation)));
            Assert.That(h.Dataplane.Calls[1], Does.Contain("attach"));
            Assert.That(h.Statuses.Get(1)?.Live?.Device.Devices, Is.EqualTo(new[] { "0000:00:02.0" }));
        });
    }

    [Test]
    public async Task An_add_the_dataplane_refuses_gets_the_originals_error_and_is_taken_back()
    {
        await using var h = new Harness();
        PortControlSource port = Source(h);
        h.Dataplane.Fail("attach", 1);
        PortControlResponse response = await AskAsync(port, Add(1, "0000:00:02.0")).WaitAsync(Patience);
        Assert.Multiple(() =>
        {
            Assert.That((response.Status, response.ErrorCode, response.ErrorCodeSource), Is.EqualTo((Status.Error, 2, "virtio_forwarder_add_vf2()")));
            Assert.That(h.Desired.Get(1), Is.Null, "the refused claim is no longer desired");
        });

        // Taking it back is a change like any: the controller applies it and the relay stays down.
        PassResult? gone = await h.Results.WaitForPassAsync(1, h.Desired.GenerationOf(1), Patience);
        Assert.That(gone?.Outcome, Is.EqualTo(PassOutcome.Removed));
        Assert.That(await h.Dataplane.ListRelaysAsync(), Is.Empty);

        // The VF is free again for the next request.
        PortControlResponse again = await AskAsync(port, Add(1, "0000:00:02.0")).WaitAsync(Patience);
        Assert.That(again.Status, Is.EqualTo(Status.Ok));
    }
}
