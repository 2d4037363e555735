using Microsoft.Extensions.Logging;
using Vio4wd.Api.Metrics;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Daemon.Logging;

namespace Vio4wd.Daemon.Hosting;

/// <summary>
/// The controller's work as the operator sees it: each relay's events and the dataplane's in the
/// log, defects with their stack, pass durations and plug latencies in the metrics, and (at
/// debug level) each plug's trace step by step.
/// </summary>
internal sealed class ReconcileReporter : IReconcileObserver, IDisposable
{
    private readonly DaemonMetrics _metrics;
    private readonly PlugTracer _plugs;
    private readonly ILogger _logger;

    public ReconcileReporter(DaemonMetrics metrics, PlugTracer plugs, ILogger logger)
    {
        _metrics = metrics;
        _plugs = plugs;
        _logger = logger;
        _plugs.Completed += OnPlugCompleted;
        _plugs.RowCompleted += OnRowCompleted;
    }

    public void PassCompleted(PassResult result)
    {
        if (result.Duration > TimeSpan.Zero)
        {
            _metrics.ObservePass(result.Duration);
        }

        if (result.Event is { } e)
        {
            _logger.RelayEvent(e.Type == "Warning" ? LogLevel.Warning : LogLevel.Information, result.Relay, e.Reason, e.Message);
        }

        if (result.Defect is { } defect)
        {
            _logger.ReconcileDefect(result.Relay, defect.Message, defect);
        }
    }

    public void DataplaneEventSeen(DataplaneEvent e)
    {
        if (DataplaneEventText.Describe(e) is { } line)
        {
            _logger.DataplaneEvent(DataplaneEventText.IsWarning(e) ? LogLevel.Warning : LogLevel.Information, line);
        }
    }

    public void ResyncFailed(Exception e) => _logger.ResyncFailed(e.Message);

    public void Dispose()
    {
        _plugs.Completed -= OnPlugCompleted;
        _plugs.RowCompleted -= OnRowCompleted;
    }

    private void OnPlugCompleted(int relay, PlugTrace trace)
    {
        _metrics.ObservePlug(trace.Kind ?? "change", trace.DoneMs ?? 0);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.PlugTraced(relay, trace.Kind ?? "change", trace.Source, "applied", trace.DoneMs ?? 0, PlugTraceText.Steps(trace));
        }
    }

    private void OnRowCompleted(int relay, PlugTrace trace)
    {
        _metrics.ObservePlug("row", trace.RowMs ?? 0);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.PlugTraced(relay, trace.Kind ?? "plug", trace.Source, "row acknowledged", trace.RowMs ?? 0, PlugTraceText.Steps(trace));
        }
    }
}
