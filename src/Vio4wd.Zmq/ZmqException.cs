namespace Vio4wd.Zmq;

/// <summary>A ZeroMQ endpoint could not be set up or used.</summary>
public sealed class ZmqException : Exception
{
    public ZmqException()
    {
    }

    public ZmqException(string message)
        : base(message)
    {
    }

    public ZmqException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
