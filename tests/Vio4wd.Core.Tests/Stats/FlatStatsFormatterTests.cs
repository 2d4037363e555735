using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Tests.Stats;

public class FlatStatsFormatterTests
{
    private static RelayState Relay(bool vm, bool device, ulong vfToVmPackets = 0, ulong dropped = 0) => new()
    {
        Id = 3,
        Vm = new VmSide { Socket = "/run/vio/virtio-forwarder3.sock", Connected = vm, QueuePairs = vm ? 1 : 0 },
        Device = new DeviceSide { Attached = device, Started = device, Devices = ["0000:05:08.1"] },
        NumaNode = 0,
        VfToVm = new DirectionPlacement(device ? 1 : null, null),
        VmToVf = new DirectionPlacement(vm ? 2 : null, null),
        VfToVmStats = new DirectionStats { RxPackets = vfToVmPackets, RxBytes = vfToVmPackets * 64, TxPackets = vfToVmPackets - dropped, TxBytes = (vfToVmPackets - dropped) * 64, DroppedUnavailablePackets = dropped, DroppedUnavailableBytes = dropped * 64 },
        VmToVfStats = new DirectionStats(),
    };

    [Test]
    public void An_active_relay_prints_every_field_in_the_original_scripts_order_with_cpu_elements()
    {
        RelayStatsSample sample = StatsSampler.Between(Relay(true, true, 1000), Relay(true, true, 3000), TimeSpan.FromMilliseconds(200));
        string[] lines = FlatStatsFormatter.Format([sample], suppressZero: false).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "relay_3.active=True",
            "relay_3.cpu.vf_to_vm=1",
            "relay_3.cpu.vm_to_vf=2",
            "relay_3.vf.pci_addr_str=0000:05:08.1",
            "relay_3.vhost.vhost_socket_name=/run/vio/virtio-forwarder3.sock",
            "relay_3.vf_to_vm.active=True",
            "relay_3.vf_to_vm.internal_state=DPDK_READY",
            "relay_3.vf_to_vm.cpu_1.pkts_rx_from_vf=3000",
            "relay_3.vf_to_vm.cpu_1.bytes_rx_from_vf=192000",
            "relay_3.vf_to_vm.cpu_1.pkts_tx_to_vm=3000",
            "relay_3.vf_to_vm.cpu_1.bytes_tx_to_vm=192000",
            "relay_3.vf_to_vm.cpu_1.pkt_rate_rx_from_vf=10000.0",
            "relay_3.vf_to_vm.cpu_1.byte_rate_rx_from_vf=640000.0",
            "relay_3.vf_to_vm.cpu_1.pkt_rate_tx_to_vm=10000.0",
            "relay_3.vf_to_vm.cpu_1.byte_rate_tx_to_vm=640000.0",
            "relay_3.vf_to_vm.cpu_1.pkts_dropped_vm_queue_full=0",
            "relay_3.vf_to_vm.cpu_1.pkts_dropped_vm_not_connected=0",
            "relay_3.vf_to_vm.cpu_1.bytes_dropped_vm_not_connected=0",
            "relay_3.vm_to_vf.active=True",
            "relay_3.vm_to_vf.internal_state=VIRTIO_READY",
            "relay_3.vm_to_vf.cpu_2.pkts_rx_from_vm=0",
            "relay_3.vm_to_vf.cpu_2.bytes_rx_from_vm=0",
            "relay_3.vm_to_vf.cpu_2.pkts_tx_to_vf=0",
            "relay_3.vm_to_vf.cpu_2.bytes_tx_to_vf=0",
            "relay_3.vm_to_vf.cpu_2.pkt_rate_rx_from_vm=0.0",
            "relay_3.vm_to_vf.cpu_2.byte_rate_rx_from_vm=0.0",
            "relay_3.vm_to_vf.cpu_2.pkt_rate_tx_to_vf=0.0",
            "relay_3.vm_to_vf.cpu_2.byte_rate_tx_to_vf=0.0",
            "relay_3.vm_to_vf.cpu_2.pkts_dropped_vf_queue_full=0",
            "relay_3.vm_to_vf.cpu_2.pkts_dropped_vf_not_connected=0",
            "relay_3.vm_to_vf.cpu_2.bytes_dropped_vf_not_connected=0",
        }));
    }

    [Test]
    public void Without_a_VM_the_VM_side_has_no_counters_no_cpu_and_zero_rates_and_zeros_can_be_suppressed()
    {
        RelayStatsSample sample = StatsSampler.Between(Relay(false, true, 10, 10), Relay(false, true, 20, 20), TimeSpan.FromSeconds(1));
        string text = FlatStatsFormatter.Format([sample], suppressZero: true);
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("relay_3.active=False\nrelay_3.cpu.vf_to_vm=1\nrelay_3.vf.pci_addr_str=0000:05:08.1\n"));
            Assert.That(text, Does.Contain("relay_3.vf_to_vm.cpu_1.pkts_dropped_vm_not_connected=20\n"));
            Assert.That(text, Does.Not.Contain("pkts_tx_to_vm=").And.Not.Contain("queue_full"), "-z leaves out integers equal to 0");
            Assert.That(text, Does.Contain("relay_3.vf_to_vm.cpu_1.pkt_rate_tx_to_vm=0.0\n"), "rates are floats, never suppressed");
            Assert.That(text, Does.EndWith(
                "relay_3.vm_to_vf.active=False\nrelay_3.vm_to_vf.internal_state=VIRTIO_UNINIT\n"
                + "relay_3.vm_to_vf.pkt_rate_rx_from_vm=0.0\nrelay_3.vm_to_vf.byte_rate_rx_from_vm=0.0\n"
                + "relay_3.vm_to_vf.pkt_rate_tx_to_vf=0.0\nrelay_3.vm_to_vf.byte_rate_tx_to_vf=0.0\n"));
        });
    }

    [Test]
    public void A_relay_with_neither_side_reports_NONE_for_the_socket_and_uninit_states()
    {
        RelayState empty = Relay(false, false) with { Vm = new VmSide() };
        string text = FlatStatsFormatter.Format([StatsSampler.Between(empty, empty, TimeSpan.Zero)], suppressZero: false);
        Assert.That(text, Does.Contain("relay_3.vhost.vhost_socket_name=NONE\n").And.Contain("relay_3.vf_to_vm.internal_state=DPDK_UNINIT\n")
            .And.Not.Contain("pci_addr_str").And.Not.Contain("cpu."));
    }

    [TestCase(0.0, "0.0")]
    [TestCase(1.5, "1.5")]
    [TestCase(1234.5678, "1234.5677490234375")]
    [TestCase(0.00001, "9.999999747378752e-06")]
    [TestCase(1e17, "9.999999843067494e+16")]
    [TestCase(123456789.0, "123456792.0")]
    [TestCase(0.25, "0.25")]
    [TestCase(0.0001, "9.999999747378752e-05")]
    [TestCase(1e15, "999999986991104.0")]
    public void Floats_are_spelled_as_Python_prints_the_float32_the_protobuf_carries(double value, string expected) =>
        Assert.That(FlatStatsFormatter.PythonFloat(value), Is.EqualTo(expected));
}
