using System.Text;
using Microsoft.Extensions.Logging;
using Vio4wd.Zmq.Native;

namespace Vio4wd.Zmq;

/// <summary>
/// The ZAP handler (ZeroMQ RFC 27) of one context: libzmq asks it about every CURVE handshake
/// on that context's sockets, and it admits only the client public keys it was given. Without
/// a handler, libzmq serves any client that knows the server's public key, keypair of its own.
/// </summary>
internal sealed partial class ZapHandler : IDisposable
{
    /// <summary>Where libzmq looks for a context's handler.</summary>
    private const string Endpoint = "inproc://zeromq.zap.01";

    private const int MaxRefusalsLogged = 64;

    private readonly nint _socket;
    private readonly IReadOnlySet<string> _keys;
    private readonly ILogger _logger;
    private readonly string _service;
    private readonly Thread _thread;
    private readonly HashSet<string> _refusedKeys = [];
    private volatile bool _stopping;

    private ZapHandler(nint socket, IReadOnlySet<string> keys, string service, ILogger logger)
    {
        _socket = socket;
        _keys = keys;
        _service = service;
        _logger = logger;
        _thread = new Thread(Serve) { Name = $"zap {service}", IsBackground = true };
    }

    /// <summary>Binds the handler in <paramref name="context"/>; do it before the served socket binds, so no handshake goes unasked.</summary>
    public static ZapHandler Start(nint context, IReadOnlySet<string> clientKeys, string service, ILogger logger)
    {
        nint socket = LibZmq.Socket(context, LibZmq.Rep);
        try
        {
            LibZmq.SetInt(socket, LibZmq.Linger, 0);
            LibZmq.SetInt(socket, LibZmq.RcvTimeo, 200);
            if (LibZmq.Bind(socket, Endpoint) != 0)
            {
                throw new ZmqException($"{service}: cannot start the CURVE client authenticator: {LibZmq.LastError()}");
            }
        }
        catch
        {
            _ = LibZmq.Close(socket);
            throw;
        }

        var handler = new ZapHandler(socket, clientKeys, service, logger);
        handler._thread.Start();
        return handler;
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        _ = LibZmq.Close(_socket);
    }

    private void Serve()
    {
        while (!_stopping)
        {
            if (ReceiveFrames() is not { } request)
            {
                continue;
            }

            // version, request id, domain, address, routing id, mechanism, credentials...
            if (request.Count < 6 || Encoding.ASCII.GetString(request[0]) != "1.0")
            {
                Reply(request.Count > 1 ? request[1] : [], "500", "malformed ZAP request");
                continue;
            }

            string mechanism = Encoding.ASCII.GetString(request[5]);
            string? key = mechanism == "CURVE" && request.Count >= 7 && request[6].Length == 32 ? Z85(request[6]) : null;
            if (key is not null && _keys.Contains(key))
            {
                Reply(request[1], "200", "OK");
                continue;
            }

            string address = Encoding.ASCII.GetString(request[3]);
            if (_refusedKeys.Count < MaxRefusalsLogged && _refusedKeys.Add(key ?? mechanism))
            {
                LogRefused(_logger, _service, address, key ?? $"(mechanism {mechanism})");
            }

            Reply(request[1], "400", "unknown client key");
        }
    }

    private unsafe List<byte[]>? ReceiveFrames()
    {
        var frames = new List<byte[]>();
        bool more;
        do
        {
            LibZmq.Message message;
            _ = LibZmq.MsgInit(&message);
            try
            {
                if (LibZmq.MsgRecv(&message, _socket, 0) < 0)
                {
                    return frames.Count == 0 ? null : frames;
                }

                frames.Add(new ReadOnlySpan<byte>(LibZmq.MsgData(&message), (int)Math.Min(LibZmq.MsgSize(&message), 1024u)).ToArray());
                more = LibZmq.MsgMore(&message) != 0;
            }
            finally
            {
                _ = LibZmq.MsgClose(&message);
            }
        }
        while (more);

        return frames;
    }

    // version, request id, status code, status text, user id, metadata
    private unsafe void Reply(byte[] requestId, string status, string text)
    {
        byte[][] frames = [Encoding.ASCII.GetBytes("1.0"), requestId, Encoding.ASCII.GetBytes(status), Encoding.ASCII.GetBytes(text), [], []];
        for (int i = 0; i < frames.Length; i++)
        {
            fixed (byte* data = frames[i])
            {
                _ = LibZmq.Send(_socket, data, (nuint)frames[i].Length, i < frames.Length - 1 ? LibZmq.SndMore : 0);
            }
        }
    }

    private static unsafe string Z85(byte[] key)
    {
        byte* text = stackalloc byte[41];
        fixed (byte* data = key)
        {
            _ = LibZmq.Z85Encode(text, data, (nuint)key.Length);
        }

        return Encoding.ASCII.GetString(text, 40);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ZMQ {Service}: refused a CURVE client from {Address}: its public key {Key} is not an authorized client key")]
    private static partial void LogRefused(ILogger logger, string service, string address, string key);
}
