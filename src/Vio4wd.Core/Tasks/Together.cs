namespace Vio4wd.Core.Tasks;

/// <summary>Loops that make one part: they run together and fail together.</summary>
public static class Together
{
    /// <summary>
    /// Runs every loop until <paramref name="cancellationToken"/> fires. The first loop to fault
    /// (or to end by itself) stops the others, and its exception is the one thrown, so a part
    /// made of several loops never hangs on in half.
    /// </summary>
    public static async Task RunAsync(CancellationToken cancellationToken, params Func<CancellationToken, Task>[] loops)
    {
        ArgumentNullException.ThrowIfNull(loops);
        using var together = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] running = [.. loops.Select(loop => Task.Run(() => loop(together.Token), CancellationToken.None))];
        Task first = await Task.WhenAny(running).ConfigureAwait(false);
        await together.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (together.IsCancellationRequested && !first.IsFaulted)
        {
        }
        catch when (first.IsFaulted)
        {
        }

        // The first failure is the cause; what the others threw while stopping is not.
        await first.ConfigureAwait(false);
        if (!cancellationToken.IsCancellationRequested && first.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("a loop ended by itself");
        }
    }
}
