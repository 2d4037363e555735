namespace Vio4wd.Core.Dataplane;

/// <summary>A failure reported by the native dataplane.</summary>
public sealed class DataplaneException : Exception
{
    public DataplaneException(string operation, int errorNumber, string message)
        : base(message)
    {
        Operation = operation;
        ErrorNumber = errorNumber;
    }

    public DataplaneException()
        : this("dataplane", 0, "dataplane operation failed")
    {
    }

    public DataplaneException(string message)
        : this("dataplane", 0, message)
    {
    }

    public DataplaneException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "dataplane";
    }

    /// <summary>What was attempted, e.g. "DPDK EAL initialisation".</summary>
    public string Operation { get; } = "dataplane";

    /// <summary>The errno value the native library reported (positive), 0 if none.</summary>
    public int ErrorNumber { get; }
}
