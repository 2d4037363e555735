using Microsoft.Extensions.Time.Testing;
using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Core.Tests.Reconciliation;

public class WorklistTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(8);

    private static async Task<int?> TakeNowAsync(Worklist work)
    {
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        try
        {
            return await work.TakeAsync(none.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Test]
    public async Task A_key_is_queued_once_and_not_handed_out_twice_while_processed()
    {
        using var work = new Worklist(Base, Max, new FakeTimeProvider());
        work.Add(1);
        work.Add(1);
        work.Add(2);
        Assert.That(await TakeNowAsync(work), Is.EqualTo(1));
        work.Add(1); // while 1 is processed: again after Done
        Assert.That(await TakeNowAsync(work), Is.EqualTo(2));
        Assert.That(await TakeNowAsync(work), Is.Null, "1 is being processed");
        work.Done(1);
        Assert.That(await TakeNowAsync(work), Is.EqualTo(1), "added while processed: queued again once done");
        work.Done(1);
        work.Done(2);
        Assert.That(await TakeNowAsync(work), Is.Null);
    }

    [TestCase(1, 1)]
    [TestCase(2, 2)]
    [TestCase(3, 4)]
    [TestCase(4, 8)]
    [TestCase(6, 8)]
    public void Failures_back_off_exponentially_up_to_the_maximum(int failures, int expectedSeconds)
    {
        using var work = new Worklist(Base, Max, new FakeTimeProvider());
        TimeSpan delay = TimeSpan.Zero;
        for (int i = 0; i < failures; i++)
        {
            delay = work.AddRateLimited(7);
        }

        Assert.That(delay, Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));
    }

    [Test]
    public async Task A_failed_key_comes_back_after_its_delay_and_forget_resets_its_backoff()
    {
        var time = new FakeTimeProvider();
        using var work = new Worklist(Base, Max, time);
        work.AddRateLimited(7);
        Assert.That(await TakeNowAsync(work), Is.Null, "not before its delay");
        time.Advance(Base);
        Assert.That(await TakeNowAsync(work), Is.EqualTo(7));
        work.Done(7);
        work.Forget(7);
        Assert.That(work.AddRateLimited(7), Is.EqualTo(Base), "a success starts the backoff over");
    }

    [Test]
    public async Task Events_for_a_key_that_is_backing_off_wait_for_its_retry()
    {
        var time = new FakeTimeProvider();
        using var work = new Worklist(Base, Max, time);
        work.AddRateLimited(7);
        for (int i = 0; i < 100; i++)
        {
            work.AddUnlessBackingOff(7);
        }

        Assert.That(await TakeNowAsync(work), Is.Null, "a hundred events do not bring the retry forward");
        work.AddUnlessBackingOff(8);
        Assert.That(await TakeNowAsync(work), Is.EqualTo(8), "a healthy key is queued at once");
        time.Advance(Base);
        Assert.That(await TakeNowAsync(work), Is.EqualTo(7), "the retry comes at its time");
        work.Done(7);
        Assert.That(await TakeNowAsync(work), Is.Null, "exactly once");
    }
}
