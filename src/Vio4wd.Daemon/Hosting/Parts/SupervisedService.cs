using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// A long-running part the host supervises: when it faults it is logged with its exception,
/// shown as Faulted (with the error and since when) and run again after a backoff that doubles
/// from <see cref="MinBackoff"/> to <see cref="MaxBackoff"/> (back to the start once it has run
/// well for a while). A <see cref="DataplaneFailedException"/> cannot be mended in this process:
/// it ends the daemon with exit code 70 (EX_SOFTWARE), after the usual clean stop.
/// </summary>
internal abstract partial class SupervisedService(string name, string kind, DaemonParts parts, DaemonExit exit, ILogger logger) : BackgroundService
{
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HealthyRun = TimeSpan.FromMinutes(1);

    private readonly TaskCompletionSource _firstFault = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    /// <summary>Completes when the part faults for the first time (readiness stops waiting for it).</summary>
    public Task FirstFault => _firstFault.Task;

    protected DaemonParts Parts { get; } = parts;

    protected ILogger Logger { get; } = logger;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Parts.Register(Name, kind);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Runs the part until <paramref name="stoppingToken"/> fires; throwing is a fault, and so is returning early.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The host's StartAsync waits for the synchronous start of every ExecuteAsync: yield first.
        await Task.Yield();
        TimeSpan backoff = MinBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
                if (stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                throw new InvalidOperationException($"{Name} stopped by itself");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (DataplaneFailedException e)
            {
                LogFatal(Logger, Name, e.Message, e);
                Parts.Faulted(Name, e.Message);
                _firstFault.TrySetResult();
                exit.Fail(70);
                return;
            }
            catch (Exception e)
            {
                string error = $"{e.GetType().Name}: {e.Message}";
                Parts.Faulted(Name, error);
                _firstFault.TrySetResult();
                if (Stopwatch.GetElapsedTime(started) > HealthyRun)
                {
                    backoff = MinBackoff;
                }

                LogFaulted(Logger, Name, error, backoff.TotalSeconds, e);
            }

            try
            {
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            Parts.Restarted(Name);
            Parts.Report(Name, PartState.Starting);
        }

        Parts.Report(Name, PartState.Stopped);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Part} failed: {Error}; restarting it in {Seconds:0.0} s")]
    private static partial void LogFaulted(ILogger logger, string part, string error, double seconds, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Part}: the dataplane failed: {Error}; stopping so that the service manager restarts the daemon")]
    private static partial void LogFatal(ILogger logger, string part, string error, Exception exception);
}
