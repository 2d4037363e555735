namespace Vio4wd.Dataplane.Tests.Support;

public static class Eventually
{
    /// <summary>Polls until the condition holds; fails with the last observation otherwise.</summary>
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> observe, Func<T, bool> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        T value = await observe();
        while (!condition(value))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}; last seen: {value}\n{diagnostics?.Invoke()}");
            }

            await Task.Delay(20);
            value = await observe();
        }

        return value;
    }
}
