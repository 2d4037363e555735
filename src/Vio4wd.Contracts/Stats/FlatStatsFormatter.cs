using System.Globalization;
using System.Text;

namespace Vio4wd.Contracts.Stats;

/// <summary>
/// The flat <c>relay_N.field=value</c> lines of the original's <c>virtioforwarder_stats.py</c>,
/// with its presence rules: VF to VM counters only while the VF is attached, VM to VF counters
/// only while the VM is connected, a <c>cpu_N</c> element only when that direction has a CPU,
/// rates always; Python's spelling of booleans and floats.
/// </summary>
public static class FlatStatsFormatter
{
    public static string Format(IEnumerable<RelayStatsSample> relays, bool suppressZero)
    {
        ArgumentNullException.ThrowIfNull(relays);
        var text = new StringBuilder();
        foreach (RelayStatsSample relay in relays)
        {
            var lines = new Lines(text, $"relay_{relay.Id}", suppressZero);
            lines.Bool("active", relay.Active);
            lines.Int("cpu.vf_to_vm", relay.VfToVm.Cpu);
            lines.Int("cpu.vm_to_vf", relay.VmToVf.Cpu);
            lines.Text("vf.pci_addr_str", relay.VfToVm.Active ? relay.Device : null);
            lines.Text("vhost.vhost_socket_name", relay.Socket ?? "NONE");
            Direction(lines, "vf_to_vm", relay.VfToVm, "vf", "vm");
            Direction(lines, "vm_to_vf", relay.VmToVf, "vm", "vf");
        }

        return text.ToString();
    }

    private static void Direction(Lines lines, string name, DirectionSample d, string from, string to)
    {
        lines.Bool($"{name}.active", d.Active);
        lines.Text($"{name}.internal_state", d.InternalState);
        string prefix = d.Cpu is { } cpu ? $"{name}.cpu_{cpu}." : $"{name}.";
        ulong? Present(ulong value) => d.Active ? value : null;
        lines.Int($"{prefix}pkts_rx_from_{from}", Present(d.RxPackets));
        lines.Int($"{prefix}bytes_rx_from_{from}", Present(d.RxBytes));
        lines.Int($"{prefix}pkts_tx_to_{to}", Present(d.TxPackets));
        lines.Int($"{prefix}bytes_tx_to_{to}", Present(d.TxBytes));
        lines.Float($"{prefix}pkt_rate_rx_from_{from}", d.RxPacketRate);
        lines.Float($"{prefix}byte_rate_rx_from_{from}", d.RxByteRate);
        lines.Float($"{prefix}pkt_rate_tx_to_{to}", d.TxPacketRate);
        lines.Float($"{prefix}byte_rate_tx_to_{to}", d.TxByteRate);
        // Bursts the destination refuses are held and retried, never dropped: "queue full" is 0
        // (the original never counted it either) and has no byte count.
        lines.Int($"{prefix}pkts_dropped_{to}_queue_full", Present(0));
        lines.Int($"{prefix}pkts_dropped_{to}_not_connected", Present(d.DroppedPackets));
        lines.Int($"{prefix}bytes_dropped_{to}_not_connected", Present(d.DroppedBytes));
    }

    /// <summary>Python's <c>repr</c> of the float32 the original's protobuf carries.</summary>
    public static string PythonFloat(double value)
    {
        double carried = (float)value;
        if (carried == 0 || !double.IsFinite(carried))
        {
            return carried == 0 ? (double.IsNegative(carried) ? "-0.0" : "0.0") : double.IsNaN(carried) ? "nan" : carried > 0 ? "inf" : "-inf";
        }

        // The shortest round-trip digits and the decimal exponent of the first one, then
        // Python's layout: positional for exponents -4 to 15, scientific otherwise.
        (string digits, int exponent) = ShortestDigits(Math.Abs(carried));
        string sign = carried < 0 ? "-" : string.Empty;
        if (exponent is < -4 or >= 16)
        {
            string mantissa = digits.Length > 1 ? $"{digits[0]}.{digits[1..]}" : digits;
            return $"{sign}{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }

        if (exponent < 0)
        {
            return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        }

        string whole = digits.Length > exponent + 1 ? digits[..(exponent + 1)] : digits.PadRight(exponent + 1, '0');
        string fraction = digits.Length > exponent + 1 ? digits[(exponent + 1)..] : "0";
        return $"{sign}{whole}.{fraction}";
    }

    private static (string Digits, int Exponent) ShortestDigits(double positive)
    {
        string text = positive.ToString("R", CultureInfo.InvariantCulture);
        int e = text.IndexOf('E', StringComparison.Ordinal);
        int shift = e < 0 ? 0 : int.Parse(text.AsSpan(e + 1), CultureInfo.InvariantCulture);
        string plain = e < 0 ? text : text[..e];
        int point = plain.IndexOf('.', StringComparison.Ordinal);
        string all = plain.Replace(".", string.Empty, StringComparison.Ordinal);
        int integerDigits = point < 0 ? plain.Length : point;
        int leadingZeros = all.Length - all.TrimStart('0').Length;
        string digits = all.Trim('0');
        return (digits, integerDigits - leadingZeros - 1 + shift);
    }

    private readonly struct Lines(StringBuilder text, string prefix, bool suppressZero)
    {
        public void Bool(string key, bool value) => Line(key, value ? "True" : "False");

        public void Int(string key, ulong? value)
        {
            if (value is { } v && !(suppressZero && v == 0))
            {
                Line(key, v.ToString(CultureInfo.InvariantCulture));
            }
        }

        public void Int(string key, int? value)
        {
            if (value is { } v && !(suppressZero && v == 0))
            {
                Line(key, v.ToString(CultureInfo.InvariantCulture));
            }
        }

        public void Float(string key, double value) => Line(key, PythonFloat(value));

        public void Text(string key, string? value)
        {
            if (value is not null)
            {
                Line(key, value);
            }
        }

        private void Line(string key, string value) => text.Append(prefix).Append('.').Append(key).Append('=').Append(value).Append('\n');
    }
}
