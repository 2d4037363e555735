namespace Vio4wd.Core.ControlApi;

/// <summary>A control request the daemon refuses; the message is what the operator sees.</summary>
public sealed class ControlRequestException : Exception
{
    public ControlRequestException()
    {
    }

    public ControlRequestException(string message)
        : base(message)
    {
    }

    public ControlRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
