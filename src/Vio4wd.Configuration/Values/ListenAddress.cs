using System.Globalization;
using System.Net;

namespace Vio4wd.Configuration;

/// <summary>
/// Where an HTTP listener binds: <c>PORT</c> (loopback only), <c>ADDRESS:PORT</c> or
/// <c>[ADDRESS]:PORT</c> (brackets are needed around an IPv6 address and accepted around an IPv4
/// one, so a template can write <c>[$(POD_IP)]:9723</c> for either family).
/// A bare port means loopback so that turning metrics on never exposes them to the network by
/// accident; <c>0.0.0.0:PORT</c> or <c>[::]:PORT</c> says so explicitly.
/// </summary>
public sealed record ListenAddress(IPAddress Address, int Port)
{
    public static ListenAddress? Parse(string text, out string problem)
    {
        problem = string.Empty;
        string host = "127.0.0.1";
        string port = text;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.StartsWith('[') && host.EndsWith(']'))
            {
                host = host[1..^1];
            }
            else if (host.Contains(':', StringComparison.Ordinal))
            {
                problem = "write an IPv6 address in brackets, e.g. [::1]:9723";
                return null;
            }
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
        {
            problem = $"expected PORT, ADDRESS:PORT or [IPV6]:PORT with a port from 1 to 65535, not \"{text}\"";
            return null;
        }

        if (host == "localhost")
        {
            return new ListenAddress(IPAddress.Loopback, number);
        }

        // An IP address, not a host name: binding must not depend on name resolution at start.
        if (!IPAddress.TryParse(host, out IPAddress? address) || host.Length == 0)
        {
            problem = $"\"{host}\" is not an IP address (give one, or localhost)";
            return null;
        }

        return new ListenAddress(address, number);
    }

    public override string ToString() => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port}"
        : $"{Address}:{Port}";
}
