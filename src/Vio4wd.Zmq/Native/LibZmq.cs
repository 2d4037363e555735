using System.Runtime.InteropServices;

namespace Vio4wd.Zmq.Native;

/// <summary>
/// The few libzmq calls the services need. libzmq rather than NetMQ: NetMQ's <c>ipc://</c> is a
/// loopback TCP listener, which the original's clients cannot reach and every local user can.
/// </summary>
internal static unsafe partial class LibZmq
{
    public const int Req = 3;
    public const int Rep = 4;
    public const int RcvMore = 13;
    public const int Linger = 17;
    public const int MaxMsgSize = 22;
    public const int RcvTimeo = 27;
    public const int SndTimeo = 28;
    public const int LastEndpoint = 32;
    public const int ZapDomain = 55;
    public const int SndMore = 2;
    public const int EAgain = 11;
    public const int EIntr = 4;

    /// <summary>zmq_msg_t: 64 opaque bytes, 8-byte aligned.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    public struct Message
    {
        private readonly long _first;
    }

    private const string Library = "libzmq.so.5";

    [LibraryImport(Library, EntryPoint = "zmq_ctx_new")]
    public static partial nint CtxNew();

    [LibraryImport(Library, EntryPoint = "zmq_ctx_term")]
    public static partial int CtxTerm(nint context);

    [LibraryImport(Library, EntryPoint = "zmq_socket")]
    public static partial nint Socket(nint context, int type);

    [LibraryImport(Library, EntryPoint = "zmq_close")]
    public static partial int Close(nint socket);

    [LibraryImport(Library, EntryPoint = "zmq_bind", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Bind(nint socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_connect", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Connect(nint socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_setsockopt")]
    public static partial int SetSockOpt(nint socket, int option, void* value, nuint length);

    [LibraryImport(Library, EntryPoint = "zmq_getsockopt")]
    public static partial int GetSockOpt(nint socket, int option, void* value, nuint* length);

    [LibraryImport(Library, EntryPoint = "zmq_msg_init")]
    public static partial int MsgInit(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_recv")]
    public static partial int MsgRecv(Message* message, nint socket, int flags);

    [LibraryImport(Library, EntryPoint = "zmq_msg_data")]
    public static partial byte* MsgData(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_size")]
    public static partial nuint MsgSize(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_more")]
    public static partial int MsgMore(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_close")]
    public static partial int MsgClose(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_send")]
    public static partial int Send(nint socket, byte* buffer, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "zmq_z85_encode")]
    public static partial byte* Z85Encode(byte* destination, byte* data, nuint size);

    [LibraryImport(Library, EntryPoint = "zmq_errno")]
    public static partial int Errno();

    [LibraryImport(Library, EntryPoint = "zmq_strerror")]
    public static partial nint StrError(int error);

    public static string LastError() => Marshal.PtrToStringUTF8(StrError(Errno())) ?? "unknown error";

    public static void SetInt(nint socket, int option, int value)
    {
        if (SetSockOpt(socket, option, &value, sizeof(int)) != 0)
        {
            throw new ZmqException($"zmq_setsockopt({option}): {LastError()}");
        }
    }

    public static void SetLong(nint socket, int option, long value)
    {
        if (SetSockOpt(socket, option, &value, sizeof(long)) != 0)
        {
            throw new ZmqException($"zmq_setsockopt({option}): {LastError()}");
        }
    }
}
