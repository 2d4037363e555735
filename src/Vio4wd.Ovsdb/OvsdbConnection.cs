using System.Net.Sockets;
using System.Threading.Channels;
using Newtonsoft.Json.Linq;
using StreamJsonRpc;
using Vio4wd.Ovsdb.Model;
using Vio4wd.Ovsdb.Protocol;

namespace Vio4wd.Ovsdb;

/// <summary>A monitor's notification: its id and the rows that changed.</summary>
/// <param name="ReceivedAt">When it arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</param>
public sealed record MonitorUpdate(JToken MonitorId, IReadOnlyList<RowChange> Changes, long ReceivedAt);

/// <summary>
/// One JSON-RPC session with an OVSDB server (RFC 7047). Requests time out; a timed-out or
/// failed session is over (<see cref="Completion"/>) and a new one must be opened. Monitor
/// notifications arrive in order on <see cref="Updates"/>; the server's echo probes are answered.
/// </summary>
public sealed class OvsdbConnection : IAsyncDisposable
{
    private readonly JsonRpc _rpc;
    private readonly TimeSpan _requestTimeout;
    private readonly Channel<MonitorUpdate> _updates = Channel.CreateUnbounded<MonitorUpdate>(new UnboundedChannelOptions { SingleWriter = true });

    private OvsdbConnection(Stream stream, TimeSpan requestTimeout)
    {
        _requestTimeout = requestTimeout;
        _rpc = new JsonRpc(new OvsdbMessageHandler(stream))
        {
            // OVSDB has no $/cancelRequest, and its own "cancel" leaves the request unanswered.
            CancellationStrategy = null,
            // Notifications are handled one at a time, in the order they arrived.
            SynchronizationContext = new Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext(sticky: false),
        };
        _rpc.AddLocalRpcMethod("update", new Action<JToken, JToken>((id, updates) => Publish(id, TableUpdates.ParseUpdate(updates, initial: false))));
        _rpc.AddLocalRpcMethod("update2", new Action<JToken, JToken>((id, updates) => Publish(id, TableUpdates.ParseUpdate2(updates))));
        _rpc.AddLocalRpcMethod("echo", new Func<JArray>(() => []));
        _rpc.Disconnected += (_, _) => _updates.Writer.TryComplete();
        _rpc.StartListening();
    }

    /// <summary>Notifications of every monitor on this connection; completes when it closes.</summary>
    public ChannelReader<MonitorUpdate> Updates => _updates.Reader;

    /// <summary>Completes when the session is over, for whatever reason.</summary>
    public Task Completion => _rpc.Completion;

    /// <summary>Which monitor method the server accepted: monitor_cond, or monitor on servers without it.</summary>
    public string? MonitorMethod { get; private set; }

    public static async Task<OvsdbConnection> ConnectAsync(OvsdbEndpoint endpoint, TimeSpan requestTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.UnixPath is { } path && !File.Exists(path))
        {
            // The kernel's answer for this ("Cannot assign requested address") misleads.
            throw new OvsdbException($"cannot connect to {endpoint}: no such socket (is ovsdb-server running?)");
        }

        var socket = endpoint.IsUnix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint.EndPoint, cancellationToken).AsTask().WaitAsync(requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            socket.Dispose();
            throw new OvsdbException($"cannot connect to {endpoint}: {e.Message}", e);
        }

        return new OvsdbConnection(new NetworkStream(socket, ownsSocket: true), requestTimeout);
    }

    /// <summary>A session over an already connected stream (tests; other transports).</summary>
    internal static OvsdbConnection Over(Stream stream, TimeSpan requestTimeout) => new(stream, requestTimeout);

    public async Task<IReadOnlyList<string>> ListDbsAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync<JArray>("list_dbs", [], cancellationToken).ConfigureAwait(false)).Select(d => (string)d!).ToList();

    public Task<JObject> GetSchemaAsync(string database, CancellationToken cancellationToken = default) =>
        CallAsync<JObject>("get_schema", [database], cancellationToken);

    /// <summary>The server's unique id (changes when the server restarts with a new database).</summary>
    public async Task<string> GetServerIdAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync<JToken>("get_server_id", [], cancellationToken).ConfigureAwait(false)).ToString();

    /// <summary>
    /// Starts a monitor and returns the rows it covers now (as <see cref="RowChangeKind.Initial"/>);
    /// later changes arrive on <see cref="Updates"/>. Uses monitor_cond, or monitor (conditions
    /// ignored: every row) on servers that do not know it.
    /// </summary>
    public async Task<IReadOnlyList<RowChange>> MonitorAsync(string database, string monitorId, IReadOnlyList<MonitorRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (MonitorMethod is null or "monitor_cond")
        {
            try
            {
                JToken initial = await CallAsync<JToken>("monitor_cond", [database, monitorId, Requests(requests, conditional: true)], cancellationToken).ConfigureAwait(false);
                MonitorMethod = "monitor_cond";
                return TableUpdates.ParseUpdate2(initial);
            }
            catch (OvsdbException e) when (e.Message.StartsWith("unknown method", StringComparison.Ordinal))
            {
                MonitorMethod = "monitor";
            }
        }

        JToken rows = await CallAsync<JToken>("monitor", [database, monitorId, Requests(requests, conditional: false)], cancellationToken).ConfigureAwait(false);
        return TableUpdates.ParseUpdate(rows, initial: true);
    }

    /// <summary>
    /// Runs a transaction; returns one result per operation. An operation's error (or the
    /// transaction's) throws <see cref="OvsdbException"/> naming it.
    /// </summary>
    public async Task<JArray> TransactAsync(string database, IEnumerable<JObject> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        JArray results = await CallAsync<JArray>("transact", [database, .. operations], cancellationToken).ConfigureAwait(false);
        if (results.OfType<JObject>().FirstOrDefault(r => r["error"] is JToken { Type: not JTokenType.Null }) is { } failed)
        {
            throw new OvsdbException($"transaction failed: {(string?)failed["error"]}{(failed["details"] is JToken d ? $": {d}" : string.Empty)}");
        }

        return results;
    }

    /// <summary>Asks the server to answer; proves the session is alive (unix sockets get no probes from the server).</summary>
    public Task EchoAsync(CancellationToken cancellationToken = default) => CallAsync<JToken>("echo", ["vio4wd"], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _rpc.Dispose();
        _updates.Writer.TryComplete();
        try
        {
            await _rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionLostException or InvalidDataException or EndOfStreamException or ObjectDisposedException)
        {
            // The session failed; disposing it is all that is left to do.
        }
    }

    private static JObject Requests(IReadOnlyList<MonitorRequest> requests, bool conditional)
    {
        var byTable = new JObject();
        foreach (IGrouping<string, MonitorRequest> table in requests.GroupBy(r => r.Table))
        {
            byTable[table.Key] = new JArray(table.Select(r => r.ToJson(conditional)));
        }

        return byTable;
    }

    private void Publish(JToken monitorId, IReadOnlyList<RowChange> changes) =>
        _updates.Writer.TryWrite(new MonitorUpdate(monitorId, changes, System.Diagnostics.Stopwatch.GetTimestamp()));

    private async Task<T> CallAsync<T>(string method, object?[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await _rpc.InvokeWithCancellationAsync<T>(method, arguments, cancellationToken)
                .WaitAsync(_requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Its answer could still come and be mistaken for another's: this session is done.
            _rpc.Dispose();
            throw new OvsdbException($"{method}: no answer within {_requestTimeout.TotalSeconds:0.#} s");
        }
        catch (RemoteInvocationException e)
        {
            throw new OvsdbException(e.Message, e);
        }
        catch (ConnectionLostException e)
        {
            throw new OvsdbException($"{method}: the connection to the OVSDB server was lost", e);
        }
    }
}
