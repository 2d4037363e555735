namespace Vio4wd.Ovsdb;

/// <summary>The OVSDB server refused a request, did not answer in time, or the connection is gone.</summary>
public class OvsdbException : Exception
{
    public OvsdbException()
    {
    }

    public OvsdbException(string message)
        : base(message)
    {
    }

    public OvsdbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
