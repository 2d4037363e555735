using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.Reconciliation;

/// <summary>What a pass over one relay came to: the change to its status (null: the relay is gone, drop its status) and the event it recorded.</summary>
public sealed record ReconcileStep(Func<RelayStatus, RelayStatus>? StatusUpdate, RelayEvent? Event, bool Ready);

/// <summary>
/// One level-triggered pass over one relay: reads the live state (the dataplane is the truth,
/// not a cache), makes the changes its <see cref="RelayPlan"/> lists and works out the status.
/// It knows nothing of queues, retries or who waits: the controller runs it.
/// </summary>
public sealed class RelayReconciler(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <param name="step">Told of each dataplane call as it completes (the plug trace).</param>
    public async Task<ReconcileStep> ReconcileAsync(int id, DesiredRelay? want, RelayStatus? before, IDataplane dataplane, Action<string> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        ArgumentNullException.ThrowIfNull(step);
        RelayState live = await dataplane.GetRelayAsync(id, cancellationToken).ConfigureAwait(false);
        step("live state read");
        RelayPlan plan = RelayPlan.For(want, live, before);
        foreach (DataplaneAction action in plan.Actions)
        {
            await action.ApplyAsync(dataplane, id, cancellationToken).ConfigureAwait(false);
            step(action.Step);
        }

        RelayState now = live;
        RelayEvent? done = null;
        if (plan.Actions.Count > 0)
        {
            now = await dataplane.GetRelayAsync(id, cancellationToken).ConfigureAwait(false);
            step("live state read");
            done = new RelayEvent(_time.GetUtcNow(), plan.Drifted ? "Warning" : "Normal", plan.Drifted ? "DriftRepaired" : "Reconciled",
                string.Join("; ", plan.Actions.Select(a => a.Description)));
        }

        if (want is null && now.IsEmpty)
        {
            return new ReconcileStep(null, done, Ready: false);
        }

        DateTimeOffset at = _time.GetUtcNow();
        // A change to the status as it is when written: events the dataplane reported meanwhile stay.
        RelayStatus Update(RelayStatus s)
        {
            RelayStatus next = s with
            {
                Source = want?.Source, Spec = want?.Spec, Generation = want?.Generation ?? s.Generation,
                ObservedGeneration = want?.Generation ?? s.Generation, LastError = null, Live = now,
            };
            return RelayConditions.Apply(done is null ? next : next.WithEvent(done), want, now, at);
        }

        return new ReconcileStep(Update, done, RelayConditions.Ready(now));
    }

    /// <summary>
    /// The status of a relay whose pass failed: the error, the Ready condition saying so, and what
    /// the pass left behind (<paramref name="live"/>, e.g. a device detached before its re-attach
    /// failed) rather than what the relay was before.
    /// </summary>
    public RelayStatus Failed(RelayStatus status, DesiredRelay? want, RelayState? live, RelayEvent failed, string message)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(failed);
        // The generation this pass tried: with LastError set and ObservedGeneration behind, it failed.
        long tried = want?.Generation ?? 0;
        return (live is null ? status : RelayConditions.Apply(status with { Live = live }, want, live, _time.GetUtcNow()))
            .WithEvent(failed).WithCondition(ConditionTypes.Ready, false, "Error", message, failed.Time)
            with { LastError = message, Generation = Math.Max(status.Generation, tried) };
    }
}
