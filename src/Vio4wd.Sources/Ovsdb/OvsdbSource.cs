using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Health;
using Vio4wd.Core.Sources;
using Vio4wd.Ovsdb;
using Vio4wd.Ovsdb.Model;
using Vio4wd.Core.Tasks;

namespace Vio4wd.Sources.Ovsdb;

/// <summary>
/// OVSDB as a source of relays: every snapshot of the Interface table becomes the "ovsdb" slice
/// of the desired state (whole, so rows deleted while the daemon was away are honoured), and
/// each flagged row is told its relay's state, socket and id in its external_ids.
/// </summary>
public sealed class OvsdbSource : IRelaySource
{
    public const string SourceName = "ovsdb";
    private const string Database = "Open_vSwitch";

    // Only rows with some external_ids: a row without any cannot be flagged, and hosts have
    // thousands of those. (No condition can say "has key virtio_forwarder with any value":
    // "includes" matches key and value.) Only the columns the provider reads.
    private static readonly MonitorRequest Interfaces = new("Interface", ["name", "external_ids"],
        [OvsdbOperations.MapNotEmpty("external_ids")]);

    private readonly IReadOnlyList<OvsdbEndpoint> _endpoints;
    private readonly OvsdbRelayProvider _provider;
    private readonly OvsdbMonitorOptions? _monitorOptions;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<OvsdbRow, OvsdbInterface> _interfaces = [];
    private readonly Lock _lock = new();
    private IReadOnlyList<OvsdbInterface> _rows = [];
    private IReadOnlyList<InterfaceVerdict> _verdicts = [];
    private HashSet<string> _reported = [];

    /// <param name="endpoints">Where OVSDB may listen; each connection attempt takes the first that exists.</param>
    public OvsdbSource(IReadOnlyList<OvsdbEndpoint> endpoints, OvsdbRelayProvider provider, ILogger logger, OvsdbMonitorOptions? monitorOptions = null)
    {
        _endpoints = endpoints;
        _provider = provider;
        _logger = logger;
        _monitorOptions = monitorOptions;
    }

    public string Name => SourceName;

    public async Task RunAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var writeBackDue = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        Action due = () => writeBackDue.Writer.TryWrite(true);
        OvsdbMonitor? monitor = null;
        monitor = new OvsdbMonitor(_endpoints, Database, [Interfaces], _monitorOptions, _logger)
        {
            SnapshotChanged = (snapshot, _) => OnSnapshotAsync(context, snapshot, monitor!.Endpoint, due),
            ConnectionChanged = connected =>
            {
                if (!connected)
                {
                    context.Report(PartState.Connecting, monitor!.Endpoint.Text);
                }
            },
            ConnectionFailed = error =>
            {
                context.ReportError(error);
                context.Report(PartState.Connecting, monitor!.Endpoint.Text);
            },
        };
        context.OutcomeChanged += due;
        try
        {
            await Together.RunAsync(cancellationToken, monitor.RunAsync, ct => WriteBackAsync(context, monitor, writeBackDue.Reader, ct)).ConfigureAwait(false);
        }
        finally
        {
            context.OutcomeChanged -= due;
        }
    }

    private Task OnSnapshotAsync(SourceContext context, OvsdbSnapshot snapshot, OvsdbEndpoint endpoint, Action writeBackDue)
    {
        OvsdbInterface[] rows = [.. snapshot.Rows(Interfaces.Table).Select(InterfaceOf)];
        (IReadOnlyList<Core.Relays.RelayClaim> claims, IReadOnlyList<InterfaceVerdict> verdicts) = _provider.Evaluate(rows);
        lock (_lock)
        {
            _rows = rows;
            _verdicts = verdicts;
        }

        context.Reject(verdicts.Where(v => v.Error is not null)
            .Select(v => new RejectedRequest(SourceName, $"interface {v.Interface.Name}", v.Error!)));
        ReportNewProblems(verdicts);
        context.Publish(claims, snapshot.ReceivedAt);
        context.Report(PartState.Connected, endpoint.Text);
        writeBackDue();
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

    private static void MarkWritten(SourceContext context, int[] relays, bool acknowledged)
    {
        foreach (int relay in relays)
        {
            context.RelayStateWritten(relay, acknowledged);
        }
    }

    private async Task WriteBackAsync(SourceContext context, OvsdbMonitor monitor, ChannelReader<bool> due, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (bool _ in due.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                IReadOnlyList<RowWriteBack> changes;
                lock (_lock)
                {
                    changes = OvsdbWriteBack.Changes(_rows, _verdicts, context.Status, uuid => context.RefusalOf(uuid)?.Reason);
                }

                if (changes.Count == 0 || !monitor.IsConnected)
                {
                    continue;
                }

                int[] nowReady = [.. changes.Select(OvsdbWriteBack.ReadyRelay).OfType<int>()];
                try
                {
                    MarkWritten(context, nowReady, acknowledged: false);
                    await monitor.TransactAsync(changes.Select(c => OvsdbOperations.SetMapKeys(Interfaces.Table, c.Uuid, "external_ids", c.Keys)), cancellationToken).ConfigureAwait(false);
                    MarkWritten(context, nowReady, acknowledged: true);
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
}
