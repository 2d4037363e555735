using System.Globalization;
using System.Text;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Ctl.Output;

/// <summary><c>vio4wdctl describe RELAY</c>: everything about one relay, as <c>kubectl describe</c>.</summary>
internal static class DescribeText
{
    public static string Format(RelayView r, DateTimeOffset now)
    {
        var text = new StringBuilder();
        void Line(string key, object? value) => text.Append(CultureInfo.InvariantCulture, $"{key + ":",-20}{value ?? "<none>"}\n");
        Line("Relay", r.Id);
        Line("Source", r.Source);
        Line("Device", r.Device);
        Line("Socket", r.Socket);
        Line("Mode", r.Mode);
        Line("Ready", r.Ready ? "True" : "False");
        Line("Age", Age.Of(r.Created, now));
        Line("Generation", $"{r.Generation} (observed {r.ObservedGeneration})");
        Line("NUMA node", r.NumaNode);
        Line("Queue pairs", r.QueuePairs);
        if (r.LiveMigration)
        {
            Line("Live migration", "in progress (VHOST_F_LOG_ALL)");
        }

        Line("Last error", r.LastError);
        Line("Last change", r.LastPlug is { } plug ? Plug(plug, now) : null);
        text.Append("CPUs:\n");
        text.Append(CultureInfo.InvariantCulture, $"  VF to VM:  {Cpu(r.Cpus.VfToVm)}\n");
        text.Append(CultureInfo.InvariantCulture, $"  VM to VF:  {Cpu(r.Cpus.VmToVf)}\n");
        text.Append("Conditions:\n");
        text.Append(Indent(TextTable.Format(
            ["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"],
            r.Conditions.Select(c => new[] { c.Type, c.Status, c.Reason, Age.Of(c.LastTransitionTime, now), c.Message }))));
        text.Append("Counters:\n");
        text.Append(Indent(TextTable.Format(
            ["DIRECTION", "RX PACKETS", "RX BYTES", "TX PACKETS", "TX BYTES", "DROPPED"],
            [Counters("VM to VF", r.Stats.VmToVf), Counters("VF to VM", r.Stats.VfToVm)])));
        if (r.DeviceCounters is { } nic)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  VF port: in {nic.InPackets}, out {nic.OutPackets}, missed {nic.InMissed}, in errors {nic.InErrors}, out errors {nic.OutErrors}, no mbuf {nic.RxNoMbuf}\n");
        }

        text.Append("Events:\n");
        text.Append(r.Events.Count == 0 ? "  <none>\n" : Indent(TextTable.Format(
            ["TYPE", "REASON", "AGE", "MESSAGE"],
            r.Events.Reverse().Select(e => new[] { e.Type, e.Reason, Age.Of(e.Time, now), e.Message }))));
        return text.ToString();
    }

    // "plug, ready in 3.2 ms (ovsdb, 5m ago), row ready in 5.1 ms; slowest step: device attached, 1.9 ms"
    private static string Plug(PlugView p, DateTimeOffset now)
    {
        var text = new StringBuilder(p.DoneMs is { } done
            ? string.Create(CultureInfo.InvariantCulture, $"{p.Kind}, {(p.Kind == "plug" ? "ready" : "applied")} in {done:0.0} ms")
            : $"in progress, last step: {p.Steps[^1].Name}");
        text.Append(CultureInfo.InvariantCulture, $" ({p.Source}, {Age.Of(p.Started, now)} ago)");
        if (p.RowMs is { } row)
        {
            text.Append(CultureInfo.InvariantCulture, $", row ready in {row:0.0} ms");
        }

        if (p.SlowestStep is { } slowest)
        {
            text.Append(CultureInfo.InvariantCulture, $"; slowest step: {slowest}, {p.SlowestMs:0.0} ms");
        }

        return text.ToString();
    }

    private static string Cpu(DirectionCpuView d) =>
        (d.Cpu is { } cpu ? $"CPU {cpu}" : "not running") + (d.Pinned is { } pin ? $" (pinned to {pin})" : " (automatic)");

    private static string[] Counters(string direction, DirectionView d) =>
        [direction, .. new[] { d.RxPackets, d.RxBytes, d.TxPackets, d.TxBytes, d.DroppedPackets }.Select(v => v.ToString(CultureInfo.InvariantCulture))];

    private static string Indent(string block) => string.Concat(block.Split('\n').Select(l => $"  {l}\n"));
}
