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
}
