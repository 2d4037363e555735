namespace Vio4wd.Testing;

/// <summary>
/// The one way tests wait: for a state, polling, with a generous deadline (about ten times what
/// it typically takes), failing with what was last seen. Tests never sleep for a fixed time
/// where a state or an event can be waited for.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    /// <summary>Polls until the condition holds; fails with the last observation otherwise.</summary>
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> observe, Func<T, bool> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(observe);
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        T value = await observe();
        while (!condition(value))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}; last seen: {value}\n{diagnostics?.Invoke()}");
            }

            await Task.Delay(Poll);
            value = await observe();
        }

        return value;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; returns how long that took.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what, TimeSpan patience)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(clock.Elapsed, Is.LessThan(patience), $"timed out waiting for {what}");
            await Task.Delay(Poll);
        }

        return clock.Elapsed;
    }

    /// <summary>Polls until <paramref name="condition"/> holds.</summary>
    public static Task<TimeSpan> UntilAsync(Func<bool> condition, string what, TimeSpan patience) =>
        UntilAsync(() => Task.FromResult(condition()), what, patience);
}
