namespace Vio4wd.Core.Dataplane;

/// <summary>
/// The dataplane as a whole failed (the EAL, its control thread, its event queue): unlike a
/// <see cref="DataplaneException"/> for one request, nothing can be retried in this process.
/// </summary>
public sealed class DataplaneFailedException : Exception
{
    public DataplaneFailedException()
        : base("the dataplane failed")
    {
    }

    public DataplaneFailedException(string message)
        : base(message)
    {
    }

    public DataplaneFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
