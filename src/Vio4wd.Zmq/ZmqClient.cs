using Vio4wd.Zmq.Native;

namespace Vio4wd.Zmq;

/// <summary>One request and its reply over a REQ socket, as the original's tools talk to the daemon.</summary>
public static class ZmqClient
{
    /// <summary>The reply, or null when none came within <paramref name="timeout"/>.</summary>
    public static unsafe byte[]? Request(string endpoint, byte[] request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        nint context = LibZmq.CtxNew();
        nint socket = LibZmq.Socket(context, LibZmq.Req);
        try
        {
            LibZmq.SetInt(socket, LibZmq.Linger, 0);
            LibZmq.SetInt(socket, LibZmq.RcvTimeo, (int)timeout.TotalMilliseconds);
            LibZmq.SetInt(socket, LibZmq.SndTimeo, (int)timeout.TotalMilliseconds);
            if (LibZmq.Connect(socket, endpoint) != 0)
            {
                throw new ZmqException($"cannot connect to {endpoint}: {LibZmq.LastError()}");
            }

            fixed (byte* data = request)
            {
                if (LibZmq.Send(socket, data, (nuint)request.Length, 0) < 0)
                {
                    return null;
                }
            }

            LibZmq.Message message;
            _ = LibZmq.MsgInit(&message);
            try
            {
                return LibZmq.MsgRecv(&message, socket, 0) < 0
                    ? null
                    : new ReadOnlySpan<byte>(LibZmq.MsgData(&message), (int)LibZmq.MsgSize(&message)).ToArray();
            }
            finally
            {
                _ = LibZmq.MsgClose(&message);
            }
        }
        finally
        {
            _ = LibZmq.Close(socket);
            _ = LibZmq.CtxTerm(context);
        }
    }
}
