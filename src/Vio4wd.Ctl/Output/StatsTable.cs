using System.Globalization;
using Vio4wd.Contracts.Stats;

namespace Vio4wd.Ctl.Output;

/// <summary><c>vio4wdctl stats</c>: counters and rates per relay and direction.</summary>
internal static class StatsTable
{
    private static readonly string[] Header = ["RELAY", "DIRECTION", "CPU", "RX PACKETS", "TX PACKETS", "DROPPED", "RX PPS", "TX PPS", "TX BIT/S"];

    public static string Format(IReadOnlyList<RelayStatsSample> relays) =>
        TextTable.Format(Header, relays.SelectMany(r => new[]
        {
            Row(r.Id, "VM to VF", r.VmToVf),
            Row(r.Id, "VF to VM", r.VfToVm),
        }));

    private static string[] Row(int id, string direction, DirectionSample d) =>
    [
        id.ToString(CultureInfo.InvariantCulture),
        direction,
        d.Cpu?.ToString(CultureInfo.InvariantCulture) ?? "-",
        d.RxPackets.ToString(CultureInfo.InvariantCulture),
        d.TxPackets.ToString(CultureInfo.InvariantCulture),
        d.DroppedPackets.ToString(CultureInfo.InvariantCulture),
        d.RxPacketRate.ToString("0", CultureInfo.InvariantCulture),
        d.TxPacketRate.ToString("0", CultureInfo.InvariantCulture),
        (d.TxByteRate * 8).ToString("0", CultureInfo.InvariantCulture),
    ];
}
