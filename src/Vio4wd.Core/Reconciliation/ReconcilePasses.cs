using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Reconciliation;

/// <summary>For requests that answer only once the reconciler has acted on them.</summary>
public static class ReconcilePasses
{
    /// <summary>
    /// The relay's status once the reconciler has had a pass at its current desired generation
    /// (whether it succeeded or not: see the status), or null if that did not happen in time.
    /// </summary>
    public static async Task<RelayStatus?> AppliedAsync(DesiredStateStore desired, RelayStatusStore statuses, int relay, TimeSpan timeout, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(statuses);
        time ??= TimeProvider.System;
        long start = time.GetTimestamp();
        while (true)
        {
            long generation = desired.Get(relay)?.Generation ?? long.MaxValue;
            RelayStatus? status = statuses.Get(relay);
            if (status is not null && (status.ObservedGeneration >= generation || (status.LastError is not null && status.Generation >= generation)))
            {
                return status;
            }

            if (time.GetElapsedTime(start) > timeout)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time).ConfigureAwait(false);
        }
    }
}
