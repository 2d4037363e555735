using Vio4wd.Contracts;
using System.Buffers.Binary;
using Vio4wd.Core.Dataplane;
using Vio4wd.Testing;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// A guest with 4 queue pairs. The VM stand-in's testpmd forwards guest queue q to and from
/// queue q of its own pcap port, so each guest queue has its own input and output file.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RelayMultiqueueTests
{
    private const int Queues = 4;
    private const int Relay = 7;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static NativeDataplane Dataplane => DataplaneFixture.Dataplane;

    [Test]
    public async Task Every_guest_tx_queue_reaches_the_vf_and_flows_spread_over_rx_queues_as_the_original_hashes_them()
    {
        const int PerQueue = 250;
        const int FromVf = 1000;
        const int Flows = 64;
        using var dir = new TempDirectory();
        var vmIn = new List<byte[]>[Queues];
        for (int q = 0; q < Queues; q++)
        {
            vmIn[q] = Pcap.MakeFrames(PerQueue, i => 64 + (i % 200), seed: 10 + q);
            Pcap.Write(dir.File($"vm_in{q}.pcap"), vmIn[q]);
        }

        List<byte[]> vfIn = Pcap.MakeFrames(FromVf, i => 64 + (i % 300), seed: 3, flows: Flows);
        Pcap.Write(dir.File("vf_in.pcap"), vfIn);
        string socket = dir.File("mq.sock");
        string pcapPort = "net_pcap1," + string.Join(',', Enumerable.Range(0, Queues)
            .Select(q => $"rx_pcap={dir.File($"vm_in{q}.pcap")},tx_pcap={dir.File($"vm_out{q}.pcap")}"));

        try
        {
            await Dataplane.RegisterSocketAsync(Relay, socket, VhostMode.Server);
            await using var vm = Testpmd.Start(
                [$"net_virtio_user0,path={socket},queues={Queues}", pcapPort],
                ["--forward-mode=io", "--nb-cores=1", "--no-flush-rx", $"--rxq={Queues}", $"--txq={Queues}"]);
            await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(Relay),
                s => s.Vm.Connected && s.Vm.RxQueueMask == 0xf && s.Vm.TxQueueMask == 0xf,
                Patience, "the guest to enable 4 queue pairs", () => vm.Output);
            await Dataplane.AttachDeviceAsync(Relay, DeviceAttachment.Of(
                $"net_pcap_mq,rx_pcap={dir.File("vf_in.pcap")},tx_pcap={dir.File("vf_out.pcap")}"));
            await vm.SendAsync("set fwd io retry");
            await vm.SendAsync("set burst tx delay 100 retry 100000");
            await vm.SendAsync("start");

            RelayState state = await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(Relay),
                s => s.VmToVfStats.TxPackets >= Queues * PerQueue && s.VfToVmStats.TxPackets >= FromVf,
                Patience, "traffic on every queue", () => vm.Output);
            await vm.WaitForPortTxAsync(1, FromVf, Patience);
            await vm.QuitAsync();
            await Dataplane.DetachDeviceAsync(Relay);

            var received = Enumerable.Range(0, Queues).Select(q => Pcap.Read(dir.File($"vm_out{q}.pcap"))).ToArray();
            Assert.Multiple(() =>
            {
                Assert.That(state.Vm.QueuePairs, Is.EqualTo(Queues));
                for (int q = 0; q < Queues; q++)
                {
                    Assert.That(state.VmToVfStats.QueuePackets[q], Is.EqualTo((ulong)PerQueue), $"frames taken from guest TX queue {q}");
                    Assert.That(received[q], Is.Not.Empty, $"guest RX queue {q} got part of the {Flows} flows");
                    Assert.That(state.VfToVmStats.QueuePackets[q], Is.EqualTo((ulong)received[q].Count), $"relay's count for guest RX queue {q}");
                }

                Assert.That(Pcap.Read(dir.File("vf_out.pcap")), Has.Count.EqualTo(Queues * PerQueue), "all guest frames reached the VF");
                Assert.That(received.Sum(r => r.Count), Is.EqualTo(FromVf), "all VF frames reached the guest");
                for (int q = 0; q < Queues; q++)
                {
                    foreach (byte[] frame in received[q])
                    {
                        int expected = OriginalFlowHash.QueueOf(frame, Queues);
                        if (expected != q)
                        {
                            Assert.Fail($"frame {BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(42))} of flow {BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(34))} arrived on queue {q}; the original's hash puts it on {expected}");
                            return;
                        }
                    }

                    int[] sequence = received[q].Select(f => BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(42))).ToArray();
                    Assert.That(sequence, Is.Ordered, $"queue {q} keeps the order of its flows");
                }
            });
        }
        finally
        {
            await RelayTrafficTests.CleanUpAsync(Relay);
        }
    }

    [TestCase(1)]
    [TestCase(Queues)]
    public async Task A_guest_that_stops_reading_holds_the_vf_back_and_loses_nothing_every_flow_arrives_in_order_once_it_reads(int queues)
    {
        // Far more frames than the guest's rings hold (256 descriptors per queue): the relay has to
        // hold bursts and stop taking from the VF while the guest reads nothing, and drops none.
        const int Frames = 6000;
        const int Flows = 16;
        int relay = 11 + queues;
        using var dir = new TempDirectory();
        List<byte[]> vfIn = Pcap.MakeFrames(Frames, i => 64 + (i % 300), seed: 21, flows: Flows);
        Pcap.Write(dir.File("vf_in.pcap"), vfIn);
        Pcap.Write(dir.File("empty.pcap"), []);
        string socket = dir.File("held.sock");
        string pcapPort = "net_pcap1," + string.Join(',', Enumerable.Range(0, queues)
            .Select(q => $"rx_pcap={dir.File("empty.pcap")},tx_pcap={dir.File($"vm_out{q}.pcap")}"));
        uint mask = (1u << queues) - 1;

        try
        {
            await Dataplane.RegisterSocketAsync(relay, socket, VhostMode.Server);
            await using var vm = Testpmd.Start(
                [$"net_virtio_user0,path={socket},queues={queues}", pcapPort],
                ["--forward-mode=io", "--nb-cores=1", "--no-flush-rx", $"--rxq={queues}", $"--txq={queues}"]);
            await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(relay),
                s => s.Vm.Connected && s.Vm.RxQueueMask == mask,
                Patience, $"the guest to enable {queues} queue pair(s)", () => vm.Output);
            // Frames put in the guest's rings while it still sets its device up would be lost with
            // the rings it sets up again: the VF comes once the stand-in is done.
            await vm.WaitUntilReadyAsync(Patience);
            await Dataplane.AttachDeviceAsync(relay, DeviceAttachment.Of(
                $"net_pcap_held{queues},rx_pcap={dir.File("vf_in.pcap")},tx_pcap={dir.File("vf_out.pcap")}"));

            await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(relay), s => s.VfToVmStats.HeldBursts > 0,
                Patience, "the relay to hold a burst the guest's full rings refused", () => vm.Output);
            // Settled (the guest's rings may still have been getting their buffers), the relay
            // takes nothing more from the VF while the guest reads nothing.
            await Task.Delay(TimeSpan.FromSeconds(1));
            RelayState held = await Dataplane.GetRelayAsync(relay);
            await Task.Delay(TimeSpan.FromSeconds(1));
            RelayState stillHeld = await Dataplane.GetRelayAsync(relay);
            TestContext.Out.WriteLine($"held with {held.VfToVmStats.RxPackets} frames taken from the VF, {held.VfToVmStats.TxPackets} of them in the guest's rings");
            Assert.That(stillHeld.VfToVmStats.RxPackets, Is.EqualTo(held.VfToVmStats.RxPackets).And.LessThan((ulong)Frames),
                "while the guest reads nothing the relay takes nothing more from the VF");

            await vm.SendAsync("start");
            RelayState state = await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(relay), s => s.VfToVmStats.TxPackets >= Frames,
                Patience, $"all {Frames} frames into the guest", () => vm.Output);
            await vm.WaitForPortTxAsync(1, Frames, Patience);
            await vm.QuitAsync();
            await Dataplane.DetachDeviceAsync(relay);

            var received = Enumerable.Range(0, queues).Select(q => Pcap.Read(dir.File($"vm_out{q}.pcap"))).ToArray();
            Assert.Multiple(() =>
            {
                Assert.That(state.VfToVmStats.RxPackets, Is.EqualTo((ulong)Frames));
                Assert.That(state.VfToVmStats.TxPackets, Is.EqualTo((ulong)Frames));
                Assert.That(state.VfToVmStats.TxBytes, Is.EqualTo((ulong)vfIn.Sum(f => (long)f.Length)));
                Assert.That(state.VfToVmStats.DroppedUnavailablePackets + state.VfToVmStats.DroppedInvalidPackets, Is.Zero, "nothing dropped");
                Assert.That(received.Sum(r => r.Count), Is.EqualTo(Frames), "every frame reached the guest");
                for (int q = 0; q < queues; q++)
                {
                    foreach (IGrouping<int, byte[]> flow in received[q].GroupBy(f => BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(42)) % Flows))
                    {
                        int[] sequence = flow.Select(f => BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(42))).ToArray();
                        Assert.That(sequence, Is.Ordered, $"flow {flow.Key} on queue {q} kept its order");
                        Assert.That(flow.All(f => f.AsSpan().SequenceEqual(vfIn[BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(42))])), Is.True,
                            $"flow {flow.Key} on queue {q} arrived byte-exact");
                    }
                }
            });
        }
        finally
        {
            await RelayTrafficTests.CleanUpAsync(relay);
        }
    }
}
