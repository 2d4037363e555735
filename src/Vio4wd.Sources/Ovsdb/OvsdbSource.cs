using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;
using Vio4wd.Sources.Ovsdb;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Sources;
using Vio4wd.Ovsdb;
using Vio4wd.Ovsdb.Model;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Sources.Ovsdb;

/// <summary>
/// OVSDB as a source of relays: every snapshot of the Interface table becomes the "ovsdb" slice
/// of the desired state (whole, so rows deleted while the daemon was away are honoured), and
/// each flagged row is told its relay's state, socket and id in its external_ids.
/// </summary>
public sealed class OvsdbPortControl
{
    private const string Database = "Open_vSwitch";
    // Only rows with some external_ids: a row without any cannot be flagged, and hosts have
    // thousands of those. (No condition can say "has key virtio_forwarder with any value":
    // "includes" matches key and value.) Only the columns the provider reads.
    private static readonly MonitorRequest Interfaces = new("Interface", ["name", "external_ids"],
        new JArray { new JArray("external_ids", "!=", OvsdbDatum.ToMap([])) });

    private readonly OvsdbMonitor _monitor;
    private readonly OvsdbRelayProvider _provider;
    private readonly DesiredStateStore _desired;
    private readonly RelayStatusStore _statuses;
    private readonly RejectedRequests _rejected;
    private readonly ILogger _logger;
    private readonly Channel<bool> _writeBackDue = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private IReadOnlyList<OvsdbInterface> _rows = [];
    private IReadOnlyList<InterfaceVerdict> _verdicts = [];
    private HashSet<string> _reported = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<OvsdbRow, OvsdbInterface> _interfaces = [];
    private readonly TaskCompletionSource _firstSnapshot = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OvsdbPortControl(OvsdbEndpoint endpoint, OvsdbRelayProvider provider, DesiredStateStore desired, RelayStatusStore statuses, RejectedRequests rejected, ILogger logger)
    {
        _provider = provider;
        _desired = desired;
        _statuses = statuses;
        _rejected = rejected;
        _logger = logger;
        _monitor = new OvsdbMonitor(endpoint, Database, [Interfaces], logger: logger) { SnapshotChanged = OnSnapshotAsync };
        _statuses.Changed += _ => _writeBackDue.Writer.TryWrite(true);
    }

    /// <summary>Completes once the rows present at start are in the desired state.</summary>
    public Task FirstSnapshot => _firstSnapshot.Task;

    public async Task RunAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(_monitor.RunAsync(cancellationToken), WriteBackAsync(cancellationToken)).ConfigureAwait(false);

    private Task OnSnapshotAsync(OvsdbSnapshot snapshot, CancellationToken cancellationToken)
    {
        OvsdbInterface[] rows = [.. snapshot.Rows(Interfaces.Table).Select(InterfaceOf)];
        (IReadOnlyList<Core.Relays.RelaySpec> specs, IReadOnlyList<InterfaceVerdict> verdicts) = _provider.Evaluate(rows);
        lock (_lock)
        {
            _rows = rows;
            _verdicts = verdicts;
        }

        _rejected.Replace(OvsdbRelayProvider.Source, verdicts.Where(v => v.Error is not null)
            .Select(v => new RejectedRequest(OvsdbRelayProvider.Source, $"interface {v.Interface.Name}", v.Error!)));
        ReportNewProblems(verdicts);
        _desired.ReplaceSlice(OvsdbRelayProvider.Source, specs);
        _firstSnapshot.TrySetResult();
        _writeBackDue.Writer.TryWrite(true);
        return Task.CompletedTask;
    }

    // The cache keeps unchanged rows as the same objects, so each row's map is read once per change, not per snapshot.
    private OvsdbInterface InterfaceOf(OvsdbRow row) =>
        _interfaces.GetValue(row, r => new OvsdbInterface(r.Uuid, r.Text("name") ?? string.Empty, r.Map("external_ids")));

    // Each problem is logged once, not on every snapshot.
    private void ReportNewProblems(IReadOnlyList<InterfaceVerdict> verdicts)
    {
        HashSet<string> now = [.. verdicts.Where(v => v.Error is not null).Select(v => $"interface {v.Interface.Name}: {v.Error}")];
        foreach (string problem in now.Except(_reported))
        {
            _logger.OvsdbRowRefused(problem);
        }

        _reported = now;
    }

    private async Task WriteBackAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (bool _ in _writeBackDue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                IReadOnlyList<RowWriteBack> changes;
                lock (_lock)
                {
                    changes = OvsdbWriteBack.Changes(_rows, _verdicts, _statuses.Get);
                }

                if (changes.Count == 0 || !_monitor.IsConnected)
                {
                    continue;
                }

                try
                {
                    await _monitor.TransactAsync(changes.Select(Mutation), cancellationToken).ConfigureAwait(false);
                }
                catch (OvsdbException e)
                {
                    // The next snapshot (after a reconnect, too) asks again.
                    _logger.OvsdbWriteBackFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    // Touches only our keys: deletes them, then inserts the ones that have a value (map insert
    // never overwrites an existing key).
    private static JObject Mutation(RowWriteBack change) => new()
    {
        ["op"] = "mutate",
        ["table"] = Interfaces.Table,
        ["where"] = new JArray { new JArray("_uuid", "==", new JArray("uuid", change.Uuid)) },
        ["mutations"] = new JArray(
            new JArray("external_ids", "delete", OvsdbDatum.ToSet(change.Keys.Keys)),
            new JArray("external_ids", "insert", OvsdbDatum.ToMap(change.Keys.Where(k => k.Value is not null).Select(k => KeyValuePair.Create(k.Key, k.Value!))))),
    };
}
