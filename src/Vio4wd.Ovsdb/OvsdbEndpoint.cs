using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vio4wd.Ovsdb;

/// <summary>
/// Where the OVSDB server listens, in OVS's notation: <c>unix:PATH</c> (or a bare absolute
/// path) and <c>tcp:HOST:PORT</c> (<c>tcp:[IPv6]:PORT</c>). SSL is not supported.
/// </summary>
public sealed record OvsdbEndpoint
{
    private OvsdbEndpoint(string text, EndPoint endPoint)
    {
        Text = text;
        EndPoint = endPoint;
    }

    public string Text { get; }

    public EndPoint EndPoint { get; }

    public bool IsUnix => EndPoint is UnixDomainSocketEndPoint;

    /// <summary>The socket file of a unix endpoint, else null.</summary>
    public string? UnixPath => IsUnix ? Text["unix:".Length..] : null;

    public static OvsdbEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('/') || text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text.StartsWith('/') ? text : text["unix:".Length..];
            return !path.StartsWith('/') || path.Contains('\0', StringComparison.Ordinal)
                ? throw new FormatException($"'{text}': a unix socket needs an absolute path")
                : new OvsdbEndpoint($"unix:{path}", new UnixDomainSocketEndPoint(path));
        }

        if (text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            string rest = text["tcp:".Length..];
            int colon = rest.LastIndexOf(':');
            string host = colon > 0 ? rest[..colon].Trim('[', ']') : string.Empty;
            if (host.Length == 0 || !ushort.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0)
            {
                throw new FormatException($"'{text}': expected tcp:HOST:PORT");
            }

            return new OvsdbEndpoint(text, IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port));
        }

        throw new FormatException($"'{text}': expected unix:PATH, an absolute path or tcp:HOST:PORT (ssl is not supported)");
    }

    public override string ToString() => Text;
}
