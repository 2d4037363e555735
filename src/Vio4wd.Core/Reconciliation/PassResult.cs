namespace Vio4wd.Core.Reconciliation;

/// <summary>How one pass over one relay ended.</summary>
public enum PassOutcome
{
    /// <summary>The live relay matches its desired state (it may still wait for its VM or device).</summary>
    Applied,

    /// <summary>Nothing is wanted of the relay and nothing of it is left: its status is gone.</summary>
    Removed,

    /// <summary>The dataplane refused a step (or the pass broke): retried with the relay's backoff.</summary>
    Failed,
}

/// <summary>
/// What one pass over one relay did: the generation of the desired state it worked from, how it
/// ended and when. The controller records one for every pass; requests that answer once their
/// change is applied await it (<see cref="PassResults.WaitForPassAsync"/>).
/// </summary>
/// <param name="Generation">The relay's desired generation when the pass read it (removals count too: <see cref="Relays.DesiredStateStore.GenerationOf"/>).</param>
/// <param name="Error">Why it failed; null unless <see cref="Outcome"/> is <see cref="PassOutcome.Failed"/>.</param>
/// <param name="Duration">From the pass's start to its end.</param>
public sealed record PassResult(int Relay, long Generation, PassOutcome Outcome, string? Error, DateTimeOffset At, TimeSpan Duration)
{
    /// <summary>The relay forwards both ways after the pass.</summary>
    public bool Ready { get; init; }

    /// <summary>What the pass recorded on the relay's status (Reconciled, DriftRepaired, ReconcileFailed); null when it changed nothing.</summary>
    public RelayEvent? Event { get; init; }

    /// <summary>A failure that was not a dataplane refusal: a defect, worth its stack in the log.</summary>
    public Exception? Defect { get; init; }

    public bool Failed => Outcome == PassOutcome.Failed;
}
