using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Contracts.Protocol;

namespace Vio4wd.Api.Zmq;

/// <summary>
/// A relay's <see cref="RelayState"/> message with the original's presence rules: VF to VM
/// counters only while the VF is attached, VM to VF counters only while the VM is connected,
/// each CPU only while its direction runs, the VF's name only while attached, rates always.
/// </summary>
internal static class RelayStateMessage
{
    public static RelayState From(RelayStatsSample s)
    {
        var message = new RelayState
        {
            Id = (uint)s.Id,
            Active = s.Active,
            Vhost = new RelayState.Types.VHOST { VhostSocketName = s.Socket ?? "NONE" },
            SocketId = (uint)(s.NumaNode ?? 0),
            VfToVm = VfToVm(s.VfToVm),
            VmToVf = VmToVf(s.VmToVf),
        };
        if (s.VfToVm.Cpu is not null || s.VmToVf.Cpu is not null)
        {
            message.Cpu = new RelayState.Types.CPU();
            if (s.VfToVm.Cpu is { } vfToVm)
            {
                message.Cpu.VfToVm = vfToVm;
            }

            if (s.VmToVf.Cpu is { } vmToVf)
            {
                message.Cpu.VmToVf = vmToVf;
            }
        }

        if (s.VfToVm.Active && s.Device is { } device)
        {
            message.Vf = new RelayState.Types.VF { PciAddrStr = device };
        }

        return message;
    }

    private static RelayState.Types.VFtoVM VfToVm(DirectionSample d)
    {
        var m = new RelayState.Types.VFtoVM
        {
            Active = d.Active,
            InternalState = d.InternalState,
            PktRateRxFromVf = (float)d.RxPacketRate,
            ByteRateRxFromVf = (float)d.RxByteRate,
            PktRateTxToVm = (float)d.TxPacketRate,
            ByteRateTxToVm = (float)d.TxByteRate,
        };
        if (d.Active)
        {
            m.PktsRxFromVf = d.RxPackets;
            m.BytesRxFromVf = d.RxBytes;
            m.PktsTxToVm = d.TxPackets;
            m.BytesTxToVm = d.TxBytes;
            // Refused bursts are held and retried, never dropped: "queue full" is always 0.
            m.PktsDroppedVmQueueFull = 0;
            m.PktsDroppedVmNotConnected = d.DroppedPackets;
            m.BytesDroppedVmNotConnected = d.DroppedBytes;
        }

        return m;
    }

    private static RelayState.Types.VMtoVF VmToVf(DirectionSample d)
    {
        var m = new RelayState.Types.VMtoVF
        {
            Active = d.Active,
            InternalState = d.InternalState,
            PktRateRxFromVm = (float)d.RxPacketRate,
            ByteRateRxFromVm = (float)d.RxByteRate,
            PktRateTxToVf = (float)d.TxPacketRate,
            ByteRateTxToVf = (float)d.TxByteRate,
        };
        if (d.Active)
        {
            m.PktsRxFromVm = d.RxPackets;
            m.BytesRxFromVm = d.RxBytes;
            m.PktsTxToVf = d.TxPackets;
            m.BytesTxToVf = d.TxBytes;
            m.PktsDroppedVfQueueFull = 0;
            m.PktsDroppedVfNotConnected = d.DroppedPackets;
            m.BytesDroppedVfNotConnected = d.DroppedBytes;
        }

        return m;
    }
}
