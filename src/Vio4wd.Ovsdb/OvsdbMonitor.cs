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
/// from a fresh initial sync, so changes made while it was away are never missed. Given several
/// candidate endpoints, each attempt uses the first unix socket that exists (else the first).
/// </summary>
public sealed partial class OvsdbMonitor
{
    private readonly IReadOnlyList<OvsdbEndpoint> _candidates;
    private readonly string _database;
    private readonly IReadOnlyList<MonitorRequest> _requests;
    private readonly OvsdbMonitorOptions _options;
    private readonly ILogger _logger;
    private volatile OvsdbConnection? _connection;
    private readonly string _candidateList;
    private volatile OvsdbEndpoint _endpoint;
    private bool _announced;
    private string? _lastError;

    public OvsdbMonitor(OvsdbEndpoint endpoint, string database, IReadOnlyList<MonitorRequest> requests, OvsdbMonitorOptions? options = null, ILogger? logger = null)
        : this([endpoint], database, requests, options, logger)
    {
    }

    public OvsdbMonitor(IReadOnlyList<OvsdbEndpoint> candidates, string database, IReadOnlyList<MonitorRequest> requests, OvsdbMonitorOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("no OVSDB endpoint", nameof(candidates));
        }

        _candidates = candidates;
        _endpoint = candidates[0];
        _candidateList = string.Join(", ", candidates.Select(c => c.Text));
        _database = database;
        _requests = requests;
        _options = options ?? new OvsdbMonitorOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Called, one call at a time, with every monitored row.</summary>
    public Func<OvsdbSnapshot, CancellationToken, Task>? SnapshotChanged { get; init; }

    /// <summary>Called when a session starts (true) or ends (false).</summary>
    public Action<bool>? ConnectionChanged { get; init; }

    /// <summary>Called with the error when an attempt to start a session failed (another follows after a backoff).</summary>
    public Action<string>? ConnectionFailed { get; init; }

    /// <summary>The endpoint of the current (or last) attempt.</summary>
    public OvsdbEndpoint Endpoint => _endpoint;

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
                    string error = args.Outcome.Exception?.Message ?? "failed";
                    // A peer that stays away is said once, not at every retry.
                    if (error != _lastError)
                    {
                        LogRetry(_logger, _endpoint.Text, error, args.RetryDelay.TotalSeconds);
                    }
                    else
                    {
                        LogRetryAgain(_logger, _endpoint.Text, error, args.RetryDelay.TotalSeconds);
                    }

                    _lastError = error;
                    ConnectionFailed?.Invoke(error);
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
        (_connection ?? throw new OvsdbException($"not connected to OVSDB at {_endpoint}")).TransactAsync(_database, operations, cancellationToken);

    private async ValueTask<(OvsdbConnection, IReadOnlyList<RowChange>, long)> StartSessionAsync(CancellationToken cancellationToken)
    {
        OvsdbEndpoint endpoint = Pick();
        OvsdbConnection connection = await OvsdbConnection.ConnectAsync(endpoint, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!(await connection.ListDbsAsync(cancellationToken).ConfigureAwait(false)).Contains(_database))
            {
                throw new OvsdbException($"the server has no database {_database}");
            }

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            return (connection, await connection.MonitorAsync(_database, "vio4wd", _requests, cancellationToken).ConfigureAwait(false), started);
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
            _lastError = null;
            ConnectionChanged?.Invoke(true);
            await PublishAsync(cache, null, cancellationToken).ConfigureAwait(false);
            double took = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogConnected(_logger, _endpoint.Text, connection.MonitorMethod ?? "monitor", initial.Count, took);
            while (await connection.Updates.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // A burst of notifications becomes one snapshot.
                long? received = null;
                while (connection.Updates.TryRead(out MonitorUpdate? update))
                {
                    received ??= update.ReceivedAt;
                    cache.Apply(update.Changes);
                }

                await PublishAsync(cache, received, cancellationToken).ConfigureAwait(false);
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
                LogDisconnected(_logger, _endpoint.Text);
                ConnectionChanged?.Invoke(false);
            }
        }
    }

    // The first candidate whose socket exists; said in the log whenever the choice changes.
    private OvsdbEndpoint Pick()
    {
        OvsdbEndpoint chosen = _candidates.FirstOrDefault(c => c.UnixPath is not { } path || File.Exists(path)) ?? _candidates[0];
        if (_candidates.Count > 1 && (chosen != _endpoint || !_announced))
        {
            _announced = true;
            LogUsing(_logger, chosen.Text, _candidateList);
        }

        _endpoint = chosen;
        return chosen;
    }

    private async Task PublishAsync(OvsdbTableCache cache, long? received, CancellationToken cancellationToken)
    {
        if (SnapshotChanged is { } handler)
        {
            await handler(cache.Snapshot() with { ReceivedAt = received }, cancellationToken).ConfigureAwait(false);
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
            LogProbeFailed(_logger, _endpoint.Text, e.Message);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OVSDB: using {Endpoint} (of {Candidates})")]
    private static partial void LogUsing(ILogger logger, string endpoint, string candidates);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: {Error}; retrying in {Delay:0.0} s")]
    private static partial void LogRetry(ILogger logger, string endpoint, string error, double delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OVSDB at {Endpoint}: {Error}; retrying in {Delay:0.0} s")]
    private static partial void LogRetryAgain(ILogger logger, string endpoint, string error, double delay);

    // The time covers the monitor request, its initial reply and the first consumer of it.
    [LoggerMessage(Level = LogLevel.Information, Message = "OVSDB at {Endpoint}: connected, monitoring with {Method} ({Rows} rows in {Milliseconds:0} ms)")]
    private static partial void LogConnected(ILogger logger, string endpoint, string method, int rows, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: disconnected; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OVSDB at {Endpoint}: no answer to a probe ({Error}); reconnecting")]
    private static partial void LogProbeFailed(ILogger logger, string endpoint, string error);
}
