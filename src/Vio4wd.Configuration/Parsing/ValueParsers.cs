using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Vio4wd.Contracts;

namespace Vio4wd.Configuration;

/// <summary>
/// Parsers for setting values. Each returns null (or false) and sets <c>problem</c> to a sentence
/// saying what is wrong and what is allowed.
/// </summary>
public static partial class ValueParsers
{
    /// <summary>Bytes a unix socket path may have (sun_path is 108 bytes with its NUL).</summary>
    public const int MaxUnixSocketPathBytes = 107;

    private const string CpuSetForms = "expected a list of CPU numbers or ranges (e.g. 1,2 or 2-5) or a hex mask starting with 0x (e.g. 0x6)";

    public static CpuSet? CpuSet(string text, int maxCpus, out string problem)
    {
        problem = string.Empty;
        var cpus = new List<int>();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            string digits = text[2..];
            if (digits.Length == 0 || !digits.All(char.IsAsciiHexDigit))
            {
                problem = CpuSetForms;
                return null;
            }

            for (int bit = 0; bit < digits.Length * 4; bit++)
            {
                int nibble = Convert.ToInt32(digits[digits.Length - 1 - (bit / 4)].ToString(), 16);
                if ((nibble & (1 << (bit % 4))) != 0)
                {
                    cpus.Add(bit);
                }
            }
        }
        else
        {
            foreach (string token in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                Match m = CpuRange().Match(token);
                if (!m.Success || !int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out int first))
                {
                    problem = $"'{token}' is not a CPU number or range; {CpuSetForms}";
                    return null;
                }

                int last = first;
                if (m.Groups[2].Success && (!int.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out last) || last < first))
                {
                    problem = $"'{token}' is not an ascending CPU range; {CpuSetForms}";
                    return null;
                }

                if (last >= maxCpus)
                {
                    problem = CpuOutOfRange(last, maxCpus);
                    return null;
                }

                cpus.AddRange(Enumerable.Range(first, last - first + 1));
            }
        }

        int tooHigh = cpus.FirstOrDefault(c => c >= maxCpus, -1);
        if (tooHigh >= 0)
        {
            problem = CpuOutOfRange(tooHigh, maxCpus);
            return null;
        }

        if (cpus.Count == 0)
        {
            problem = $"no CPU is selected; {CpuSetForms}";
            return null;
        }

        return new CpuSet(cpus);
    }

    public static int? BoundedInt(string text, int min, int max, out string problem)
    {
        problem = string.Empty;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        problem = $"expected an integer from {min} to {max}";
        return null;
    }

    public static double? Number(string text, double min, bool minExclusive, out string problem)
    {
        problem = string.Empty;
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) &&
            (minExclusive ? value > min : value >= min))
        {
            return value;
        }

        problem = $"expected a number {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}";
        return null;
    }

    public static bool? Flag(string text, out string problem)
    {
        problem = string.Empty;
        switch (text.ToLowerInvariant())
        {
            case "y" or "yes" or "true" or "1" or "on":
                return true;
            case "n" or "no" or "false" or "0" or "off":
                return false;
            default:
                problem = "expected y, yes, true, 1 or on to enable, or n, no, false, 0 or off to disable (empty means not set)";
                return null;
        }
    }

    public static string? AbsolutePath(string text, out string problem)
    {
        problem = string.Empty;
        if (!text.StartsWith('/') || text.Contains('\0', StringComparison.Ordinal))
        {
            problem = "expected an absolute path";
            return null;
        }

        return text;
    }

    public static string? UnixSocketPath(string text, out string problem)
    {
        string? path = AbsolutePath(text, out problem);
        if (path is not null && Encoding.UTF8.GetByteCount(path) > MaxUnixSocketPathBytes)
        {
            problem = $"a unix socket path may have at most {MaxUnixSocketPathBytes} bytes";
            return null;
        }

        return path;
    }

    public static string? ZmqEndpoint(string text, out string problem)
    {
        problem = string.Empty;
        if (text.StartsWith("ipc://", StringComparison.Ordinal))
        {
            string? path = UnixSocketPath(text["ipc://".Length..], out string pathProblem);
            if (path is not null)
            {
                return text;
            }

            problem = $"the ipc:// endpoint needs an absolute socket path ({pathProblem})";
            return null;
        }

        if (text.StartsWith("tcp://", StringComparison.Ordinal) && HostPort(text["tcp://".Length..]))
        {
            return text;
        }

        problem = "expected ipc:///<absolute path> or tcp://<address>:<port>";
        return null;
    }

    public static string? OvsdbRemote(string text, out string problem)
    {
        problem = string.Empty;
        if ((text.StartsWith("tcp:", StringComparison.Ordinal) && HostPort(text[4..])) ||
            (text.StartsWith("unix:/", StringComparison.Ordinal) && UnixSocketPath(text[5..], out _) is not null) ||
            (text.StartsWith('/') && UnixSocketPath(text, out _) is not null))
        {
            return text;
        }

        problem = "expected a socket path, unix:<path> or tcp:<address>:<port>";
        return null;
    }

    public static SocketAccount? Account(string text, string kind, out string problem)
    {
        problem = string.Empty;
        if (AccountName().IsMatch(text))
        {
            return SocketAccount.Named(text);
        }

        problem = $"expected a {kind} name (letters, digits, '_', '-', '.', at most 32 characters) or a numeric id";
        return null;
    }

    public static string? SocketNameTemplate(string text, out string problem)
    {
        problem = string.Empty;
        int at = text.IndexOf("%u", StringComparison.Ordinal);
        bool oneSlot = at >= 0 && text.IndexOf('%', at + 2) < 0 && text.IndexOf('%') == at;
        if (!oneSlot || text.Contains('/', StringComparison.Ordinal) || (at + 2 < text.Length && char.IsAsciiDigit(text[at + 2])))
        {
            problem = "expected a file name with exactly one %u for the relay id, no other '%', no '/', and no digit right after %u";
            return null;
        }

        return text;
    }

    public static string? VfioVfToken(string text, out string problem)
    {
        problem = string.Empty;
        if (text == "0")
        {
            return VirtioForwarderOptions.DefaultVfioVfToken;
        }

        if (Guid.TryParseExact(text, "D", out Guid token))
        {
            return token.ToString("D");
        }

        problem = $"expected 0 (the default token) or a UUID such as {VirtioForwarderOptions.DefaultVfioVfToken}";
        return null;
    }

    /// <summary>Parses <c>DEVICE=RELAY</c>, split at the last '=' so device arguments may contain '='.</summary>
    public static StaticVf? StaticVf(string text, int maxRelays, out string problem)
    {
        problem = string.Empty;
        int eq = text.LastIndexOf('=');
        if (eq <= 0)
        {
            problem = "expected <device>=<relay>, where <device> is a PCI address (dddd:bb:dd.f) or a DPDK device string and <relay> a relay id";
            return null;
        }

        int? relay = RelayId(text[(eq + 1)..], maxRelays, out problem);
        if (relay is null)
        {
            return null;
        }

        DeviceAttachment? device = DeviceAttachment.Parse(text[..eq], out string deviceProblem);
        if (device is null)
        {
            problem = $"device '{text[..eq]}': {deviceProblem}";
            return null;
        }

        return new StaticVf(device, relay.Value);
    }

    /// <summary>Parses <c>R:CPU</c> or <c>R:VFTOVM,VMTOVF</c>.</summary>
    public static CpuPin? CpuPin(string text, int maxRelays, int maxCpus, out string problem)
    {
        Match m = PinPattern().Match(text);
        if (!m.Success)
        {
            problem = "expected <relay>:<cpu> or <relay>:<cpu>,<cpu> entries separated by ';' (e.g. 1:2 or 1:2,3)";
            return null;
        }

        int? relay = RelayId(m.Groups["relay"].Value, maxRelays, out problem);
        int? first = relay is null ? null : Cpu(m.Groups["a"].Value, maxCpus, out problem);
        int? second = first is null ? null : m.Groups["b"].Success ? Cpu(m.Groups["b"].Value, maxCpus, out problem) : first;
        return second is null ? null : new CpuPin(relay!.Value, first!.Value, second.Value);
    }

    public static int? RelayId(string text, int maxRelays, out string problem)
    {
        problem = string.Empty;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int relay))
        {
            problem = $"relay id '{text}' is not a non-negative integer";
            return null;
        }

        if (relay >= maxRelays)
        {
            problem = $"relay {relay} is out of range: relays are 0 to {maxRelays - 1} (VIRTIOFWD_MAX_RELAYS)";
            return null;
        }

        return relay;
    }

    public static bool DeviceSelector(string text)
    {
        return PciAddress.TryParse(text, out _) || NetdevSelector().IsMatch(text);
    }

    private static int? Cpu(string text, int maxCpus, out string problem)
    {
        problem = string.Empty;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) && cpu < maxCpus)
        {
            return cpu;
        }

        problem = CpuOutOfRange(text, maxCpus);
        return null;
    }

    private static string CpuOutOfRange(object cpu, int maxCpus) =>
        $"CPU {cpu} is out of range: CPUs are 0 to {maxCpus - 1} with this DPDK build";

    private static bool HostPort(string text)
    {
        int colon = text.LastIndexOf(':');
        return colon > 0 &&
            int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) &&
            port is > 0 and < 65536 &&
            !text[..colon].Any(char.IsWhiteSpace);
    }

    [GeneratedRegex("^([0-9]+)(?:-([0-9]+))?$")]
    private static partial Regex CpuRange();

    [GeneratedRegex("^(?<relay>[0-9]+):(?<a>[0-9]+)(?:,(?<b>[0-9]+))?$")]
    private static partial Regex PinPattern();

    [GeneratedRegex("^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]{1,10})$")]
    private static partial Regex AccountName();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,15}(?::[1-9][0-9]{0,3})?$")]
    private static partial Regex NetdevSelector();
}
