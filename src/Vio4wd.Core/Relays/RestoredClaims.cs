namespace Vio4wd.Core.Relays;

/// <summary>
/// What a restarted daemon read back from its state file: the claims each source had, for the
/// sources that keep theirs only in memory (port control, the file monitor) to take up again, so
/// the relays they asked for come back with the same ids without anyone asking twice.
/// </summary>
public sealed class RestoredClaims
{
    private volatile IReadOnlyList<HeldClaim> _held = [];

    public void Set(IReadOnlyList<HeldClaim> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        _held = held;
    }

    /// <summary>The claims <paramref name="source"/> had before the restart, in their order.</summary>
    public IReadOnlyList<RelayClaim> Of(string source) => [.. _held.Where(h => h.Source == source).Select(h => h.Claim)];
}
