using Vio4wd.Contracts;
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
        DateTimeOffset asked = time.GetUtcNow();
        while (true)
        {
            DesiredRelay? want = desired.Get(relay);
            RelayStatus? status = statuses.Get(relay);
            bool failedSince = status?.LastError is not null && status.Events.Count > 0 && status.Events[^1].Time >= asked;
            if (want is null)
            {
                // Nothing wanted any more: done once the relay is gone (its status goes with it).
                if (status is null || failedSince)
                {
                    return status ?? new RelayStatus { Id = relay };
                }
            }
            else if (status is not null && (status.ObservedGeneration >= want.Generation || (failedSince && status.Generation >= want.Generation)))
            {
                return status;
            }

            if (time.GetElapsedTime(start) > timeout)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), time).ConfigureAwait(false);
        }
    }
}
