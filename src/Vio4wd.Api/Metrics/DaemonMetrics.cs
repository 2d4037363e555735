using Prometheus;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Api.Metrics;

/// <summary>What the metrics are read from: the daemon's stores and, once it is up, the dataplane.</summary>
public sealed record MetricsInputs(
    Func<IDataplane?> Dataplane,
    RelayStatusStore Statuses,
    DaemonParts Parts,
    Func<bool> Ready,
    Func<RelayController?> Reconciler,
    string Version,
    string DpdkVersion,
    TimeProvider? Time = null);

/// <summary>
/// The daemon's Prometheus metrics. Relay, device and worker series are refreshed from one read of
/// the dataplane per scrape (all relays and workers in one call on its control thread), so scrapes
/// cost the workers nothing; series of relays that are gone are removed.
/// Labels are bounded: relay ids and CPU numbers, never device strings (those are in
/// <c>vio4wd_relay_info</c>, one series per relay).
/// </summary>
public sealed class DaemonMetrics : IDisposable
{
    private static readonly string[] Directions = ["vf_to_vm", "vm_to_vf"];

    private readonly MetricsInputs _in;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _scrape = new(1, 1);
    private readonly WorkerBusyRatio _busy = new();

    private readonly LabelledSeries<Counter.Child> _rxPackets;
    private readonly LabelledSeries<Counter.Child> _rxBytes;
    private readonly LabelledSeries<Counter.Child> _txPackets;
    private readonly LabelledSeries<Counter.Child> _txBytes;
    private readonly LabelledSeries<Counter.Child> _droppedPackets;
    private readonly LabelledSeries<Counter.Child> _droppedBytes;
    private readonly LabelledSeries<Counter.Child> _heldBursts;
    private readonly LabelledSeries<Gauge.Child> _queuePairs;
    private readonly LabelledSeries<Gauge.Child> _mbufsInUse;
    private readonly LabelledSeries<Gauge.Child> _mbufs;
    private readonly LabelledSeries<Gauge.Child> _liveMigration;
    private readonly LabelledSeries<Counter.Child> _deviceRxPackets;
    private readonly LabelledSeries<Counter.Child> _deviceTxPackets;
    private readonly LabelledSeries<Counter.Child> _deviceMissed;
    private readonly LabelledSeries<Counter.Child> _deviceRxErrors;
    private readonly LabelledSeries<Counter.Child> _deviceTxErrors;
    private readonly LabelledSeries<Counter.Child> _deviceNoMbuf;
    private readonly LabelledSeries<Gauge.Child> _relayInfo;
    private readonly LabelledSeries<Gauge.Child> _condition;
    private readonly LabelledSeries<Counter.Child> _workerBusy;
    private readonly LabelledSeries<Counter.Child> _workerIdle;
    private readonly LabelledSeries<Gauge.Child> _workerRatio;
    private readonly LabelledSeries<Counter.Child> _workerPackets;
    private readonly LabelledSeries<Gauge.Child> _workerDirections;
    private readonly LabelledSeries<Gauge.Child> _partUp;
    private readonly LabelledSeries<Counter.Child> _partRestarts;
    private readonly LabelledSeries<Gauge.Child> _syncAge;
    private readonly Counter _passes;
    private readonly Counter _failures;
    private readonly Counter _resyncs;
    private readonly Histogram _passDuration;
    private readonly Histogram _plugDuration;
    private readonly Gauge _ready;
    private readonly Gauge _relays;
    private readonly ISweepable[] _relaySeries;
    private readonly ISweepable[] _workerSeries;
    private readonly ISweepable[] _daemonSeries;

    public DaemonMetrics(MetricsInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _in = inputs;
        _time = inputs.Time ?? TimeProvider.System;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        MetricFactory f = Prometheus.Metrics.WithCustomRegistry(Registry);

        const string Rx = "taken from the direction's source (the VF for vf_to_vm, the guest for vm_to_vf)";
        const string Tx = "delivered to the direction's destination";
        _rxPackets = Series.Counter(f, "vio4wd_relay_rx_packets_total", $"Packets {Rx}.", "relay", "direction");
        _rxBytes = Series.Counter(f, "vio4wd_relay_rx_bytes_total", $"Bytes {Rx}.", "relay", "direction");
        _txPackets = Series.Counter(f, "vio4wd_relay_tx_packets_total", $"Packets {Tx}.", "relay", "direction");
        _txBytes = Series.Counter(f, "vio4wd_relay_tx_bytes_total", $"Bytes {Tx}.", "relay", "direction");
        _droppedPackets = Series.Counter(f, "vio4wd_relay_dropped_packets_total",
            "Packets dropped: cause=unavailable when the destination side is absent, cause=invalid when the VF refused the guest's offload request.", "relay", "direction", "cause");
        _droppedBytes = Series.Counter(f, "vio4wd_relay_dropped_bytes_total", "Bytes dropped, by cause (as vio4wd_relay_dropped_packets_total).", "relay", "direction", "cause");
        _heldBursts = Series.Counter(f, "vio4wd_relay_held_bursts_total", "Bursts the destination could not take at once (held and retried: back-pressure, not drops).", "relay", "direction");
        _queuePairs = Series.Gauge(f, "vio4wd_relay_queue_pairs", "Queue pairs the guest has (0 without a VM).", "relay");
        _mbufsInUse = Series.Gauge(f, "vio4wd_relay_mbufs_in_use", "Packet buffers of the relay's pool in use.", "relay");
        _mbufs = Series.Gauge(f, "vio4wd_relay_mbufs", "Packet buffers in the relay's pool.", "relay");
        _liveMigration = Series.Gauge(f, "vio4wd_relay_live_migration", "1 while the guest is being live-migrated (dirty-page logging on).", "relay");
        _deviceRxPackets = Series.Counter(f, "vio4wd_device_rx_packets_total", "Packets the VF received (ethdev ipackets).", "relay");
        _deviceTxPackets = Series.Counter(f, "vio4wd_device_tx_packets_total", "Packets the VF sent (ethdev opackets).", "relay");
        _deviceMissed = Series.Counter(f, "vio4wd_device_rx_missed_packets_total", "Packets the VF dropped because its receive ring was full (ethdev imissed).", "relay");
        _deviceRxErrors = Series.Counter(f, "vio4wd_device_rx_errors_total", "Receive errors of the VF (ethdev ierrors).", "relay");
        _deviceTxErrors = Series.Counter(f, "vio4wd_device_tx_errors_total", "Transmit errors of the VF (ethdev oerrors).", "relay");
        _deviceNoMbuf = Series.Counter(f, "vio4wd_device_rx_nombuf_total", "Receive buffer allocation failures of the VF (ethdev rx_nombuf).", "relay");
        _relayInfo = Series.Gauge(f, "vio4wd_relay_info", "1 for each relay, with its source, device, socket and vhost-user mode.", "relay", "source", "device", "socket", "mode");
        _condition = Series.Gauge(f, "vio4wd_relay_condition", "1 when the relay's condition is True, 0 otherwise, with the reason it gives.", "relay", "condition", "reason");
        _workerBusy = Series.Counter(f, "vio4wd_worker_busy_seconds_total", "Time the worker spent on polls that moved packets.", "cpu");
        _workerIdle = Series.Counter(f, "vio4wd_worker_idle_seconds_total", "Time the worker spent on polls that found nothing.", "cpu");
        _workerRatio = Series.Gauge(f, "vio4wd_worker_busy_ratio", "Share of the worker's time spent moving packets over the last second or more (0 to 1).", "cpu");
        _workerPackets = Series.Counter(f, "vio4wd_worker_packets_total", "Packets the worker moved, both directions of all its relays.", "cpu");
        _workerDirections = Series.Gauge(f, "vio4wd_worker_directions", "Relay directions the worker polls.", "cpu");
        _partUp = Series.Gauge(f, "vio4wd_part_up", "1 when the part (source, server, reconciler) is connected, serving or running.", "part", "kind", "state");
        _partRestarts = Series.Counter(f, "vio4wd_part_restarts_total", "Times the part was restarted after a fault.", "part");
        _syncAge = Series.Gauge(f, "vio4wd_source_last_sync_age_seconds", "Seconds since the source last published its relays in full.", "source");
        _passes = f.CreateCounter("vio4wd_reconcile_passes_total", "Reconcile passes over one relay, failed ones included.");
        _failures = f.CreateCounter("vio4wd_reconcile_failures_total", "Reconcile passes that failed (retried with the relay's backoff).");
        _resyncs = f.CreateCounter("vio4wd_reconcile_resyncs_total", "Full resyncs (periodic, after lost events, or asked for).");
        _passDuration = f.CreateHistogram("vio4wd_reconcile_duration_seconds", "Duration of reconcile passes over one relay.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 4, 9) });
        _plugDuration = f.CreateHistogram("vio4wd_plug_duration_seconds",
            "From the input that changed a relay (an OVSDB update, a ZMQ request, a file, a reload) to the pass that applied it: stage plug (the relay became Ready), unplug (it stopped forwarding), change (other changes); row: to its OVSDB row saying ready.",
            new HistogramConfiguration { LabelNames = ["stage"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 12) });
        _ready = f.CreateGauge("vio4wd_ready", "1 once the first pass over the configured relays is done.");
        _relays = f.CreateGauge("vio4wd_relays", "Relays the daemon knows (desired or live).");
        f.CreateGauge("vio4wd_build_info", "1, with the daemon's and DPDK's versions.", ["version", "dpdk_version"])
            .WithLabels(inputs.Version, inputs.DpdkVersion).Set(1);
        f.CreateGauge("vio4wd_start_time_seconds", "When the daemon started, in seconds since the Unix epoch.")
            .Set(_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
        _relaySeries = [_rxPackets, _rxBytes, _txPackets, _txBytes, _droppedPackets, _droppedBytes, _heldBursts, _queuePairs, _mbufsInUse, _mbufs,
            _liveMigration, _deviceRxPackets, _deviceTxPackets, _deviceMissed, _deviceRxErrors, _deviceTxErrors, _deviceNoMbuf, _relayInfo, _condition];
        _workerSeries = [_workerBusy, _workerIdle, _workerRatio, _workerPackets, _workerDirections];
        _daemonSeries = [_partUp, _partRestarts, _syncAge];
        Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Called by the reconciler after each pass (passes and failures are counted from its own totals).</summary>
    public void ObservePass(TimeSpan duration) => _passDuration.Observe(duration.TotalSeconds);

    /// <param name="stage">plug, unplug, change or row.</param>
    public void ObservePlug(string stage, double milliseconds) => _plugDuration.WithLabels(stage).Observe(milliseconds / 1000);

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        // Concurrent scrapes would interleave their sweeps; one refresh at a time.
        await _scrape.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DataplaneSnapshot snapshot = _in.Dataplane() is { } dataplane
                ? await dataplane.SnapshotAsync(cancellationToken).ConfigureAwait(false)
                : new DataplaneSnapshot([], []);
            Relays(snapshot.Relays);
            Workers(snapshot.Workers);
            Daemon();
        }
        finally
        {
            _scrape.Release();
        }
    }

    private void Relays(IReadOnlyList<RelayState> live)
    {
        IReadOnlyList<RelayStatus> statuses = _in.Statuses.All();
        foreach (RelayState relay in live)
        {
            string id = Label(relay.Id);
            Direction(id, Directions[0], relay.VfToVmStats);
            Direction(id, Directions[1], relay.VmToVfStats);
            _queuePairs.Set(relay.Vm.Connected ? relay.Vm.QueuePairs : 0, id);
            _mbufsInUse.Set(relay.MbufsInUse, id);
            _mbufs.Set(relay.MbufsTotal, id);
            _liveMigration.Set(relay.Vm.LiveMigration ? 1 : 0, id);
            if (relay.Device.Attached)
            {
                DeviceCounters c = relay.Device.Counters;
                _deviceRxPackets.Set(c.InPackets, id);
                _deviceTxPackets.Set(c.OutPackets, id);
                _deviceMissed.Set(c.InMissed, id);
                _deviceRxErrors.Set(c.InErrors, id);
                _deviceTxErrors.Set(c.OutErrors, id);
                _deviceNoMbuf.Set(c.RxNoMbuf, id);
            }
        }

        Dictionary<int, RelayState> liveById = live.ToDictionary(r => r.Id);
        foreach (RelayStatus status in statuses)
        {
            string id = Label(status.Id);
            RelayState? state = liveById.GetValueOrDefault(status.Id);
            string device = status.Spec?.Device?.ToString() ?? (state?.Device.Attached == true ? string.Join(";", state.Device.Devices) : string.Empty);
            string socket = status.Spec?.Socket?.Path ?? state?.Vm.Socket ?? string.Empty;
            string mode = (status.Spec?.Socket?.Mode ?? state?.Vm.Mode)?.ToString().ToLowerInvariant() ?? string.Empty;
            _relayInfo.Set(1, id, status.Source ?? string.Empty, device, socket, mode);
            foreach (Condition condition in status.Conditions)
            {
                _condition.Set(condition.Status == "True" ? 1 : 0, id, condition.Type, condition.Reason);
            }
        }

        _relays.Set(statuses.Select(s => s.Id).Union(live.Select(r => r.Id)).Count());
        Sweep(_relaySeries);
    }

    private void Direction(string id, string direction, DirectionStats s)
    {
        _rxPackets.Set(s.RxPackets, id, direction);
        _rxBytes.Set(s.RxBytes, id, direction);
        _txPackets.Set(s.TxPackets, id, direction);
        _txBytes.Set(s.TxBytes, id, direction);
        _droppedPackets.Set(s.DroppedUnavailablePackets, id, direction, "unavailable");
        _droppedPackets.Set(s.DroppedInvalidPackets, id, direction, "invalid");
        _droppedBytes.Set(s.DroppedUnavailableBytes, id, direction, "unavailable");
        _droppedBytes.Set(s.DroppedInvalidBytes, id, direction, "invalid");
        _heldBursts.Set(s.HeldBursts, id, direction);
    }

    private void Workers(IReadOnlyList<WorkerLoad> workers)
    {
        IReadOnlyDictionary<int, double> ratios = _busy.Update(workers, _time.GetTimestamp(), _time);
        foreach (WorkerLoad w in workers)
        {
            string cpu = Label(w.Cpu);
            double hz = w.CyclesPerSecond == 0 ? 1 : w.CyclesPerSecond;
            _workerBusy.Set(w.BusyCycles / hz, cpu);
            _workerIdle.Set(w.IdleCycles / hz, cpu);
            _workerPackets.Set(w.Packets, cpu);
            _workerDirections.Set(w.Directions, cpu);
            _workerRatio.Set(ratios.GetValueOrDefault(w.Cpu, w.BusyFraction), cpu);
        }

        Sweep(_workerSeries);
    }

    private void Daemon()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (PartStatus part in _in.Parts.All())
        {
            bool up = part.State is PartState.Connected or PartState.Serving or PartState.Running;
            _partUp.Set(up ? 1 : 0, part.Name, part.Kind, part.State.ToString().ToLowerInvariant());
            _partRestarts.Set(part.Restarts, part.Name);
            if (part.Kind == "source" && part.LastSync is { } synced)
            {
                _syncAge.Set(Math.Max(0, (now - synced).TotalSeconds), part.Name);
            }
        }

        Sweep(_daemonSeries);
        _ready.Set(_in.Ready() ? 1 : 0);
        if (_in.Reconciler() is { } reconciler)
        {
            _passes.IncTo(reconciler.Passes);
            _failures.IncTo(reconciler.Failures);
            _resyncs.IncTo(reconciler.Resyncs);
        }
    }

    public void Dispose() => _scrape.Dispose();

    private static void Sweep(ISweepable[] series)
    {
        foreach (ISweepable s in series)
        {
            s.Sweep();
        }
    }

    private static string Label(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
