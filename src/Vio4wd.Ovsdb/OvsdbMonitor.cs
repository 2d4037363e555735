using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Newtonsoft.Json.Linq;
using Polly;
using Polly.Retry;
using Vio4wd.Ovsdb.Model;

namespace Vio4wd.Ovsdb;

/// <summary>Tuning of <see cref="OvsdbMonitor"/>.</summary>
public sealed record OvsdbMonitorOptions
{
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle session is checked with an echo (unix sockets get no probes from the server).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First reconnect delay; it doubles, with jitter, up to <see cref="ReconnectMax"/> (OVS's own are 1 s and 8 s).</summary>
    public TimeSpan ReconnectMin { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan ReconnectMax { get; init; } = TimeSpan.FromSeconds(8);
}

/// <summary>
/// A monitor that stays up: it connects, monitors, keeps a copy of the rows and hands the whole
/// copy to <see cref="SnapshotChanged"/> after the initial sync and after every batch of
/// changes, so consumers can be level-triggered. Any failure (server gone, no answer to a probe
/// or a request) ends the session; it reconnects with jittered exponential backoff and starts
/// from a fresh initial sync, so changes made while it was away are never missed.
/// </summary>
public sealed partial class OvsdbMonitor(
    OvsdbEndpoint endpoint,
    string database,
    IReadOnlyList<MonitorRequest> requests,
    OvsdbMonitorOptions? options = null,
    ILogger? logger = null)
{
    private readonly OvsdbMonitorOptions _options = options ?? new OvsdbMonitorOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private volatile OvsdbConnection? _connection;

    /// <summary>Called, one call at a time, with every monitored row.</summary>
    public Func<OvsdbSnapshot, CancellationToken, Task>? SnapshotChanged { get; init; }

    /// <summary>Called when a session starts (true) or ends (false).</summary>
    public Action<bool>? ConnectionChanged { get; init; }

    public OvsdbEndpoint Endpoint => endpoint;

    public bool IsConnected => _connection is not null;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        ResiliencePipeline reconnect = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<OvsdbException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectMin,
                MaxDelay = _options.ReconnectMax,
                OnRetry = args =>
                {
                    LogRetry(_logger, endpoint.Text, args.Outcome.Exception?.Message ?? "failed", args.RetryDelay.TotalSeconds);
                    return default;
                },
            })
            .Build();
        var cache = new OvsdbTableCache();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                (OvsdbConnection connection, IReadOnlyList<RowChange> initial, long started) =
                    await reconnect.ExecuteAsync(StartSessionAsync, cancellationToken).ConfigureAwait(false);
                await RunSessionAsync(connection, initial, cache, started, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs a transaction on the current session.</summary>
    /// <exception cref="OvsdbException">Not connected, or the server refused it.</exception>
    public Task<JArray> TransactAsync(IEnumerable<JObject> operations, CancellationToken cancellationToken = default) =>
        (_connection ?? throw new OvsdbException($"not connected to OVSDB at {endpoint}")).TransactAsync(database, operations, cancellationToken);

    private async ValueTask<(OvsdbConnection, IReadOnlyList<RowChange>, long)> StartSessionAsync(CancellationToken cancellationToken)
    {
        OvsdbConnection connection = await OvsdbConnection.ConnectAsync(endpoint, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!(await connection.ListDbsAsync(cancellationToken).ConfigureAwait(false)).Contains(database))
            {
                throw new OvsdbException($"the server has no database {database}");
            }

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            return (connection, await connection.MonitorAsync(database, "vio4wd", requests, cancellationToken).ConfigureAwait(false), started);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task RunSessionAsync(OvsdbConnection connection, IReadOnlyList<RowChange> initial, OvsdbTableCache cache, long started, CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task probing = ProbeAsync(connection, session.Token);
        try
        {
            cache.Clear();
            cache.Apply(initial);
            _connection = connection;
            ConnectionChanged?.Invoke(true);
            await PublishAsync(cache, cancellationToken).ConfigureAwait(false);
            double took = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogConnected(_logger, endpoint.Text, connection.MonitorMethod ?? "monitor", initial.Count, took);
            while (await connection.Updates.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // A burst of notifications becomes one snapshot.
                while (connection.Updates.TryRead(out MonitorUpdate? update))
                {
                    cache.Apply(update.Changes);
                }

                await PublishAsync(cache, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _connection = null;
            await session.CancelAsync().ConfigureAwait(false);
            await probing.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                LogDisconnected(_logger, endpoint.Text);
                ConnectionChanged?.Invoke(false);
            }
        }
    }

    private async Task PublishAsync(OvsdbTableCache cache, CancellationToken cancellationToken)
    {
        if (SnapshotChanged is { } handler)
        {
            await handler(cache.Snapshot(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ProbeAsync(OvsdbConnection connection, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ProbeInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await connection.EchoAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (OvsdbException e)
        {
            LogProbeFailed(_logger, endpoint.Text, e.Message);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: {Error}; retrying in {Delay:0.0} s")]
    private static partial void LogRetry(ILogger logger, string endpoint, string error, double delay);

    // The time covers the monitor request, its initial reply and the first consumer of it.
    [LoggerMessage(Level = LogLevel.Information, Message = "OVSDB at {Endpoint}: connected, monitoring with {Method} ({Rows} rows in {Milliseconds:0} ms)")]
    private static partial void LogConnected(ILogger logger, string endpoint, string method, int rows, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: disconnected; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: no answer to a probe ({Error}); reconnecting")]
    private static partial void LogProbeFailed(ILogger logger, string endpoint, string error);
}
