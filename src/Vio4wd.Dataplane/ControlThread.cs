using System.Collections.Concurrent;

using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane;

/// <summary>
/// The one thread that makes every DPDK control call. DPDK's control APIs are not
/// thread-safe and some must run on the EAL main lcore; rte_eal_init also pins the
/// thread that calls it, so that must be a thread of our own, not a pool thread.
/// </summary>
internal sealed class ControlThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public ControlThread(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public Task<T> InvokeAsync<T>(Func<T> call)
    {
        // Continuations must not run here: they would inherit this thread's CPU pinning
        // and hold up the next control call.
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                completion.SetResult(call());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        });
        return completion.Task;
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _work.Dispose();
    }

    private void Run()
    {
        foreach (Action work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
