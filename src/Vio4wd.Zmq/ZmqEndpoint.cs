namespace Vio4wd.Zmq;

/// <summary>
/// A ZeroMQ endpoint as the original configured them. <c>ipc://PATH</c> is a unix socket: its
/// directory is created and the socket file gets mode 0660 and the configured owner and group.
/// </summary>
public sealed record ZmqEndpoint(string Text)
{
    public const string IpcScheme = "ipc://";

    /// <summary>The socket file of an <c>ipc://</c> endpoint; null for other transports.</summary>
    public string? IpcPath => Text.StartsWith(IpcScheme, StringComparison.Ordinal) ? Text[IpcScheme.Length..] : null;

    public bool IsTcp => Text.StartsWith("tcp://", StringComparison.Ordinal);

    public override string ToString() => Text;
}
