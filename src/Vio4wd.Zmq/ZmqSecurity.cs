using System.Net;
using Vio4wd.Zmq.Native;

namespace Vio4wd.Zmq;

/// <summary>
/// What a tcp:// endpoint needs before it may listen: a CURVE secret key (the server's; clients
/// must know its public key) with the public keys of the clients it serves, or an explicit
/// allowance for plain TCP on a loopback address. ipc:// endpoints are protected by their
/// file's mode, owner and group instead.
/// </summary>
public sealed record ZmqSecurity(string? CurveSecretKey, bool AllowPlainLoopback, IReadOnlySet<string>? ClientKeys = null)
{
    public static readonly ZmqSecurity IpcOnly = new(null, false);

    private const int CurveServer = 47;
    private const int CurveSecretKeyOption = 49;

    /// <summary>A Z85 key as <c>zmq_curve_keypair</c> and <c>zmq.curve_keypair()</c> write it: 40 characters.</summary>
    public static string? ParseKey(string text, out string problem)
    {
        problem = string.Empty;
        string key = text.Trim();
        const string Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
        if (key.Length != 40 || !key.All(Z85.Contains))
        {
            problem = "a CURVE key is 40 Z85 characters (as zmq_curve_keypair writes it)";
            return null;
        }

        return key;
    }

    /// <summary>
    /// Client public keys from key files: one Z85 key per line (lines starting with '#' are comments), or CZMQ
    /// certificates (<c>public-key = "..."</c>; their other lines are metadata). Null with
    /// <paramref name="problem"/> naming the file and line when a line is neither.
    /// </summary>
    public static IReadOnlySet<string>? ParseClientKeys(IEnumerable<(string Name, string Text)> files, out string problem)
    {
        ArgumentNullException.ThrowIfNull(files);
        problem = string.Empty;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, string text) in files)
        {
            bool certificate = text.Contains("public-key", StringComparison.Ordinal);
            string[] lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                // Whole-line comments only: '#' is one of Z85's characters.
                string line = lines[i].Trim();
                if (line.StartsWith('#'))
                {
                    continue;
                }

                if (line.StartsWith("secret-key", StringComparison.Ordinal))
                {
                    problem = $"{name}:{i + 1}: a secret key has no place among client public keys";
                    return null;
                }

                string candidate = certificate
                    ? line.StartsWith("public-key", StringComparison.Ordinal) ? line.Split('=', 2)[^1].Trim().Trim('"') : string.Empty
                    : line;
                if (candidate.Length == 0)
                {
                    continue;
                }

                if (ParseKey(candidate, out string keyProblem) is not { } key)
                {
                    problem = $"{name}:{i + 1}: {keyProblem}";
                    return null;
                }

                keys.Add(key);
            }
        }

        return keys;
    }

    internal unsafe void Apply(nint socket, ZmqEndpoint endpoint)
    {
        if (!endpoint.IsTcp)
        {
            return;
        }

        if (CurveSecretKey is { } key)
        {
            LibZmq.SetInt(socket, CurveServer, 1);
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes(key);
            fixed (byte* value = bytes)
            {
                if (LibZmq.SetSockOpt(socket, CurveSecretKeyOption, value, (nuint)bytes.Length) != 0)
                {
                    throw new ZmqException($"{endpoint}: the CURVE secret key was refused: {LibZmq.LastError()}");
                }
            }

            return;
        }

        if (Refusal(endpoint) is { } refusal)
        {
            throw new ZmqException(refusal);
        }
    }

    /// <summary>Why serving <paramref name="endpoint"/> with these settings is refused, or null (checked before anything starts).</summary>
    public string? Refusal(ZmqEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return !endpoint.IsTcp || CurveSecretKey is not null || (AllowPlainLoopback && IsLoopback(endpoint)) ? null
            : $"{endpoint} would listen on TCP without encryption: give a CURVE secret key "
                + "(VIRTIOFWD_ZMQ_CURVE_SECRET_KEY_FILE), or use a loopback address with VIRTIOFWD_ZMQ_ALLOW_PLAIN_LOOPBACK=y";
    }

    private static bool IsLoopback(ZmqEndpoint endpoint)
    {
        string rest = endpoint.Text["tcp://".Length..];
        int colon = rest.LastIndexOf(':');
        string host = (colon > 0 ? rest[..colon] : rest).Trim('[', ']');
        return host is "localhost" or "lo" || (IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address));
    }
}
