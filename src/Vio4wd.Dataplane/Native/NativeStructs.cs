using System.Runtime.InteropServices;

using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Native;

// Mirrors of the structs in interop/include/vio4wd.h; field order and sizes must match.

[StructLayout(LayoutKind.Sequential)]
internal struct NativeOptions
{
    public uint Flags;
    public int SocketUid;
    public int SocketGid;
    public uint MbufsPerRelay;
    public uint IdleSleepMaxUs;
    public uint MaxRelays;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeDirectionStats
{
    public ulong RxPackets;
    public ulong RxBytes;
    public ulong TxPackets;
    public ulong TxBytes;
    public ulong DropUnavailPackets;
    public ulong DropUnavailBytes;
    public ulong HeldBursts;
    public fixed ulong QueuePackets[NativeMethods.MaxQueuePairs];
    public ulong DropInvalidPackets;
    public ulong DropInvalidBytes;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeRelayInfo
{
    public uint Id;
    public uint Flags;
    public int Vid;
    public int Port;
    public int Numa;
    public fixed int Cpu[2];
    public fixed int Pin[2];
    public uint QueuePairs;
    public uint RxQueueMask;
    public uint TxQueueMask;
    public int BondMode;
    public uint MemberCount;
    public uint MbufsInUse;
    public uint MbufsTotal;
    public ulong Features;
    public ulong DevIPackets;
    public ulong DevOPackets;
    public ulong DevIMissed;
    public ulong DevIErrors;
    public ulong DevOErrors;
    public ulong DevRxNoMbuf;
    public fixed byte Socket[NativeMethods.PathLength];
    public fixed byte Device[NativeMethods.DeviceLength];
    public NativeDirectionStats VmToVf;
    public NativeDirectionStats VfToVm;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NativeWorkerInfo
{
    public uint Lcore;
    public int Numa;
    public uint Directions;
    public uint Reserved;
    public ulong BusyCycles;
    public ulong IdleCycles;
    public ulong Polls;
    public ulong Packets;
    public ulong Hz;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NativeEvent
{
    public int Type;
    public uint Relay;
    public long Value;
    public ulong TimeNs;
}

[Flags]
internal enum NativeRelayFlags : uint
{
    None = 0,
    Socket = 1 << 0,
    Client = 1 << 1,
    VmConnected = 1 << 2,
    Device = 1 << 3,
    Bond = 1 << 4,
    DeviceFailed = 1 << 5,
    LiveMigration = 1 << 6,
    PortStarted = 1 << 7,
}
