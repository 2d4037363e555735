using System.Globalization;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts;

namespace Vio4wd.Ctl.Output;

/// <summary><c>vio4wdctl status</c>: one line per relay.</summary>
internal static class StatusTable
{
    private static readonly string[] Header = ["RELAY", "SOURCE", "DEVICE", "SOCKET", "MODE", "READY", "REASON", "AGE"];

    public static string Format(IReadOnlyList<RelayView> relays, DateTimeOffset now) =>
        TextTable.Format(Header, relays.Select(r => Row(r, now)));

    private static readonly string[] WideHeader = [.. Header, "CPUS", "NUMA", "QUEUES", "VM-TO-VF", "VF-TO-VM", "DROPPED"];

    /// <summary><c>-o wide</c>: the table plus where each direction runs and what it moved.</summary>
    public static string FormatWide(IReadOnlyList<RelayView> relays, DateTimeOffset now) =>
        TextTable.Format(WideHeader, relays.Select(r => (string[])[
            .. Row(r, now),
            $"{Cpu(r.Cpus.VfToVm.Cpu)},{Cpu(r.Cpus.VmToVf.Cpu)}",
            r.NumaNode?.ToString(CultureInfo.InvariantCulture) ?? "-",
            r.QueuePairs.ToString(CultureInfo.InvariantCulture),
            r.Stats.VmToVf.TxPackets.ToString(CultureInfo.InvariantCulture),
            r.Stats.VfToVm.TxPackets.ToString(CultureInfo.InvariantCulture),
            (r.Stats.VmToVf.DroppedPackets + r.Stats.VfToVm.DroppedPackets).ToString(CultureInfo.InvariantCulture),
        ]));

    private static string[] Row(RelayView r, DateTimeOffset now) =>
    [
        r.Id.ToString(CultureInfo.InvariantCulture),
        r.Source ?? "-",
        r.Device ?? "-",
        r.Socket ?? "-",
        r.Mode ?? "-",
        r.Ready ? "True" : "False",
        r.Conditions.FirstOrDefault(c => c.Type == "Ready")?.Reason ?? "-",
        Age.Of(r.Created, now),
    ];

    private static string Cpu(int? cpu) => cpu?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Requests no relay could be made of, below the relays.</summary>
    public static string Format(IReadOnlyList<RejectedRequest> rejected) =>
        "Not relayed:\n" + TextTable.Format(["SOURCE", "WHAT", "STATE"], rejected.Select(r => new[] { r.Source, r.Subject, $"error: {r.Reason}" }));

    /// <summary>The daemon's own parts, below the relays: what is connected, serving, or faulted and since when.</summary>
    public static string Format(DaemonView daemon, DateTimeOffset now) =>
        $"Daemon: {(daemon.Ready ? "ready" : "starting")}, pid {daemon.Pid.ToString(CultureInfo.InvariantCulture)}, up {Age.Of(daemon.Started, now)}\n"
        + TextTable.Format(["PART", "KIND", "STATE", "SINCE", "RESTARTS", "DETAIL", "LAST ERROR"], daemon.Parts.Select(p => new[]
        {
            p.Name,
            p.Kind,
            p.State,
            Age.Of(p.Since, now),
            p.Restarts.ToString(CultureInfo.InvariantCulture),
            p.Detail ?? "-",
            p.LastError is null ? "-" : $"{p.LastError} ({Age.Of(p.LastErrorTime ?? now, now)} ago)",
        }));
}
