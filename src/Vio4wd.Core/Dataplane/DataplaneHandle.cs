namespace Vio4wd.Core.Dataplane;

/// <summary>
/// The dataplane once it is up. The parts that use it are composed before the EAL starts (the
/// control API answers from the moment the configuration is parsed); the part that starts the
/// dataplane sets it here and clears it when it stops.
/// </summary>
public sealed class DataplaneHandle
{
    private volatile IDataplane? _current;

    public DataplaneHandle()
    {
    }

    /// <summary>A handle on a dataplane that is already up (tests, tools).</summary>
    public DataplaneHandle(IDataplane dataplane) => _current = dataplane;

    /// <summary>Null until the EAL and the workers are up, and again once they stopped.</summary>
    public IDataplane? Current => _current;

    /// <summary>The dataplane; throws when it is not up.</summary>
    public IDataplane Required => _current ?? throw new InvalidOperationException("the dataplane is not started");

    public void Set(IDataplane? dataplane) => _current = dataplane;
}
