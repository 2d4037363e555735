using Microsoft.Extensions.Logging;
using Vio4wd.Zmq.Native;

namespace Vio4wd.Zmq;

/// <summary>A request as it arrived: its bytes (all frames joined) and how many frames it had.</summary>
public readonly record struct ZmqRequest(byte[] Bytes, int Frames);

/// <summary>
/// One REP socket served on its own thread, as the original did (a ZMQ socket belongs to one
/// thread). Every request gets exactly one answer from the handler, whatever it contains; the
/// handler's task is waited for on this dedicated thread, which is all the thread does.
/// </summary>
public sealed partial class ZmqRepServer : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly nint _context;
    private readonly nint _socket;
    private readonly ZapHandler? _zap;
    private readonly Thread _thread;
    private readonly Func<ZmqRequest, Task<byte[]>> _handler;
    private readonly ILogger _logger;
    private readonly long _maxMessageBytes;
    private volatile bool _stopping;

    private ZmqRepServer(string name, ZmqEndpoint endpoint, nint context, nint socket, ZapHandler? zap, long maxMessageBytes, Func<ZmqRequest, Task<byte[]>> handler, ILogger logger)
    {
        _zap = zap;
        Name = name;
        _maxMessageBytes = maxMessageBytes;
        Endpoint = endpoint;
        _context = context;
        _socket = socket;
        _handler = handler;
        _logger = logger;
        _thread = new Thread(Serve) { Name = $"zmq {name}", IsBackground = true };
    }

    public string Name { get; }

    public ZmqEndpoint Endpoint { get; }

    /// <summary>Binds <paramref name="binding"/>'s endpoint and starts serving.</summary>
    public static ZmqRepServer Start(string name, ZmqBinding binding, long maxMessageBytes, Func<ZmqRequest, Task<byte[]>> handler, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return Start(name, binding.Endpoint, binding.SecureSocketFile, binding.Security, maxMessageBytes, handler, logger);
    }

    /// <summary>Binds the endpoint (an ipc:// socket gets its directory, then <paramref name="secureSocketFile"/> sets its mode and owner) and starts serving.</summary>
    /// <param name="maxMessageBytes">libzmq drops a peer that sends more: keep it well above any valid request, so bad ones get an answer.</param>
    public static ZmqRepServer Start(string name, ZmqEndpoint endpoint, Action<string> secureSocketFile, ZmqSecurity security, long maxMessageBytes, Func<ZmqRequest, Task<byte[]>> handler, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(secureSocketFile);
        ArgumentNullException.ThrowIfNull(security);
        if (endpoint.IpcPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Delete(path); // a stale socket: the PID lock says no other daemon owns it
        }

        nint context = LibZmq.CtxNew();
        nint socket = LibZmq.Socket(context, LibZmq.Rep);
        ZapHandler? zap = null;
        try
        {
            if (endpoint.IsTcp && security.CurveSecretKey is not null)
            {
                zap = ZapHandler.Start(context, security.ClientKeys
                    ?? throw new ZmqException($"{endpoint}: CURVE needs the public keys of the clients it serves"), name, logger);
            }

            LibZmq.SetInt(socket, LibZmq.Linger, 1000);
            LibZmq.SetInt(socket, LibZmq.SndTimeo, 1000);
            LibZmq.SetInt(socket, LibZmq.RcvTimeo, (int)Poll.TotalMilliseconds);
            LibZmq.SetLong(socket, LibZmq.MaxMsgSize, maxMessageBytes);
            security.Apply(socket, endpoint);
            if (LibZmq.Bind(socket, endpoint.Text) != 0)
            {
                throw new ZmqException($"{name}: cannot bind {endpoint}: {LibZmq.LastError()}");
            }

            if (endpoint.IpcPath is { } socketFile)
            {
                secureSocketFile(socketFile);
            }
        }
        catch
        {
            zap?.Dispose();
            _ = LibZmq.Close(socket);
            _ = LibZmq.CtxTerm(context);
            throw;
        }

        var server = new ZmqRepServer(name, endpoint, context, socket, zap, maxMessageBytes, handler, logger);
        server._thread.Start();
        LogListening(logger, name, endpoint.Text);
        return server;
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        // Closing a socket and ending its context have nothing to report that could be acted on.
        _ = LibZmq.Close(_socket);
        _zap?.Dispose();
        _ = LibZmq.CtxTerm(_context);
        if (Endpoint.IpcPath is { } path)
        {
            File.Delete(path);
        }
    }

    private void Serve()
    {
        while (!_stopping)
        {
            ZmqRequest? request = Receive();
            if (request is null)
            {
                continue;
            }

            byte[] reply;
            try
            {
                reply = _handler(request.Value).GetAwaiter().GetResult();
            }
#pragma warning disable CA1031 // Whatever went wrong, the REP socket owes an answer and the daemon goes on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogHandlerFailed(_logger, Name, e);
                reply = [];
            }

            SendReply(reply);
        }
    }

    // All frames of one request; null when nothing came within the poll interval. libzmq caps each
    // frame; the request as a whole keeps at most that many bytes too (the rest of a long
    // multipart request is received and dropped, never buffered), and handlers see it as oversized.
    private unsafe ZmqRequest? Receive()
    {
        using var bytes = new MemoryStream();
        int frames = 0;
        bool more;
        do
        {
            LibZmq.Message message;
            _ = LibZmq.MsgInit(&message); // cannot fail (libzmq zeroes the struct)
            try
            {
                if (LibZmq.MsgRecv(&message, _socket, 0) < 0)
                {
                    int error = LibZmq.Errno();
                    if (frames == 0 && error is LibZmq.EAgain or LibZmq.EIntr)
                    {
                        return null;
                    }

                    LogReceiveFailed(_logger, Name, LibZmq.LastError());
                    return frames == 0 ? null : new ZmqRequest(bytes.ToArray(), frames);
                }

                long room = Math.Max(0, _maxMessageBytes - bytes.Length);
                bytes.Write(new ReadOnlySpan<byte>(LibZmq.MsgData(&message), (int)Math.Min(room, (long)LibZmq.MsgSize(&message))));
                frames++;
                more = LibZmq.MsgMore(&message) != 0;
            }
            finally
            {
                _ = LibZmq.MsgClose(&message);
            }
        }
        while (more);

        return new ZmqRequest(bytes.ToArray(), frames);
    }

    private unsafe void SendReply(byte[] reply)
    {
        fixed (byte* data = reply)
        {
            if (LibZmq.Send(_socket, data, (nuint)reply.Length, 0) < 0)
            {
                LogSendFailed(_logger, Name, LibZmq.LastError());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ZMQ {Service} service on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string service, string endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "ZMQ {Service}: the request could not be handled")]
    private static partial void LogHandlerFailed(ILogger logger, string service, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ZMQ {Service}: receiving failed: {Error}")]
    private static partial void LogReceiveFailed(ILogger logger, string service, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ZMQ {Service}: the answer could not be sent: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string service, string error);
}
