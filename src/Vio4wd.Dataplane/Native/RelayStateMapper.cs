using Vio4wd.Contracts;
using System.Text;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Native;

/// <summary>Turns the native relay snapshot into the managed model.</summary>
internal static class RelayStateMapper
{
    public static unsafe RelayState ToModel(in NativeRelayInfo info)
    {
        var flags = (NativeRelayFlags)info.Flags;
        string socket;
        string device;
        fixed (byte* s = info.Socket)
        {
            socket = CString(s, NativeMethods.PathLength);
        }

        fixed (byte* d = info.Device)
        {
            device = CString(d, NativeMethods.DeviceLength);
        }

        bool attached = flags.HasFlag(NativeRelayFlags.Device);
        return new RelayState
        {
            Id = (int)info.Id,
            Vm = new VmSide
            {
                Socket = flags.HasFlag(NativeRelayFlags.Socket) ? socket : null,
                Mode = flags.HasFlag(NativeRelayFlags.Client) ? VhostMode.Client : VhostMode.Server,
                Connected = flags.HasFlag(NativeRelayFlags.VmConnected),
                Vid = info.Vid >= 0 ? info.Vid : null,
                QueuePairs = (int)info.QueuePairs,
                RxQueueMask = info.RxQueueMask,
                TxQueueMask = info.TxQueueMask,
                NegotiatedFeatures = info.Features,
                LiveMigration = flags.HasFlag(NativeRelayFlags.LiveMigration),
            },
            Device = new DeviceSide
            {
                Attached = attached,
                Devices = attached ? device.Split(';') : [],
                BondMode = flags.HasFlag(NativeRelayFlags.Bond) ? (BondMode)info.BondMode : null,
                Port = info.Port >= 0 ? info.Port : null,
                Started = flags.HasFlag(NativeRelayFlags.PortStarted),
                Failed = flags.HasFlag(NativeRelayFlags.DeviceFailed),
                Counters = new DeviceCounters(info.DevIPackets, info.DevOPackets, info.DevIMissed, info.DevIErrors, info.DevOErrors, info.DevRxNoMbuf),
            },
            NumaNode = info.Numa >= 0 ? info.Numa : null,
            VmToVf = new DirectionPlacement(Cpu(info.Cpu[0]), Cpu(info.Pin[0])),
            VfToVm = new DirectionPlacement(Cpu(info.Cpu[1]), Cpu(info.Pin[1])),
            VmToVfStats = ToModel(info.VmToVf),
            VfToVmStats = ToModel(info.VfToVm),
            MbufsInUse = (int)info.MbufsInUse,
            MbufsTotal = (int)info.MbufsTotal,
        };
    }

    private static int? Cpu(int value) => value >= 0 ? value : null;

    private static unsafe DirectionStats ToModel(NativeDirectionStats s)
    {
        var queues = new ulong[NativeMethods.MaxQueuePairs];
        for (int q = 0; q < queues.Length; q++)
        {
            queues[q] = s.QueuePackets[q];
        }

        return new DirectionStats
        {
            RxPackets = s.RxPackets,
            RxBytes = s.RxBytes,
            TxPackets = s.TxPackets,
            TxBytes = s.TxBytes,
            DroppedUnavailablePackets = s.DropUnavailPackets,
            DroppedUnavailableBytes = s.DropUnavailBytes,
            DroppedInvalidPackets = s.DropInvalidPackets,
            DroppedInvalidBytes = s.DropInvalidBytes,
            HeldBursts = s.HeldBursts,
            QueuePackets = queues,
        };
    }

    private static unsafe string CString(byte* text, int capacity)
    {
        var span = new ReadOnlySpan<byte>(text, capacity);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? span[..end] : span);
    }
}
