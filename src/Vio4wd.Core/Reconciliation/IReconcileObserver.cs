using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Reconciliation;

/// <summary>
/// What the controller tells those who follow its work (the plug tracer, the log, the metrics),
/// so none of them is called from inside the loop by name. Called on the controller's thread:
/// keep it short.
/// </summary>
public interface IReconcileObserver
{
    /// <summary>A change of the relay's desired state to <paramref name="generation"/> was queued; the relay was Ready before it or not.</summary>
    void Queued(int relay, long generation, bool wasReady, DesiredChange change)
    {
    }

    /// <summary>A step of a relay's pass: "dequeued", "pass started", each dataplane call ("socket registered", "device attached", ...), "live state read", "pass failed".</summary>
    void Stepped(int relay, string name)
    {
    }

    /// <summary>A pass ended; called before its status is written, so whatever reads the status finds the pass's trace complete.</summary>
    void PassCompleted(PassResult result)
    {
    }

    /// <summary>A dataplane event the controller read (it is their only reader).</summary>
    void DataplaneEventSeen(DataplaneEvent e)
    {
    }

    /// <summary>A periodic resync could not read the dataplane; the next period tries again.</summary>
    void ResyncFailed(Exception e)
    {
    }
}
