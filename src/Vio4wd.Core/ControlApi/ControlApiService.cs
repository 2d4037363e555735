using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Health;

namespace Vio4wd.Core.ControlApi;

/// <summary>
/// The control API over the reconciler's statuses, the desired state and the dataplane's live
/// counters. Requests that change something go through the desired state, never around the
/// reconciler, and answer once it has acted. It answers from the moment the configuration is
/// parsed: until the dataplane is up (<paramref name="dataplane"/> gives null) relays show as
/// pending and requests that need it say so.
/// </summary>
public sealed class ControlApiService(
    RelayStatusStore statuses,
    DesiredStateStore desired,
    RejectedRequests rejected,
    DaemonParts parts,
    Func<IDataplane?> dataplane,
    Func<bool> ready,
    string version,
    OperatorControls controls,
    PassResults passes,
    TimeProvider? time = null,
    PlugTracer? plugs = null) : IControlApi
{
    public const int MaxStatsDelayMs = 60_000;

    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromSeconds(30);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly DateTimeOffset _started = (time ?? TimeProvider.System).GetUtcNow();

    public async Task<IReadOnlyList<RelayView>> StatusAsync()
    {
        // One look at the dataplane for all relays; a relay it does not list has nothing live.
        Dictionary<int, RelayState> live = dataplane() is { } running
            ? (await running.ListRelaysAsync().ConfigureAwait(false)).ToDictionary(r => r.Id)
            : [];
        Dictionary<int, RelayStatus> known = statuses.All().ToDictionary(s => s.Id);
        foreach (DesiredRelay want in desired.All().Where(d => !known.ContainsKey(d.Spec.RelayId)))
        {
            known[want.Spec.RelayId] = Pending(want);
        }

        return [.. known.Values.OrderBy(s => s.Id).Select(status => RelayViews.Of(status with { Live = live.GetValueOrDefault(status.Id) }, plugs?.Last(status.Id)))];
    }

    public async Task<IReadOnlyList<RelayStatsSample>> StatsAsync(int delayMs, bool includeInactive)
    {
        if (delayMs is < 0 or > MaxStatsDelayMs)
        {
            throw new ControlRequestException($"the delay is 0 to {MaxStatsDelayMs} ms, not {delayMs}");
        }

        IReadOnlyDictionary<int, RelayStatsSample> samples = await StatsSampler.SampleAsync(Running(), TimeSpan.FromMilliseconds(delayMs), _time).ConfigureAwait(false);
        return [.. samples.Values.Where(s => includeInactive || s.Active).OrderBy(s => s.Id)];
    }

    public async Task<RelayView> PinAsync(int relay, IReadOnlyList<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        IDataplane running = Running();
        if (desired.Get(relay) is null)
        {
            throw new ControlRequestException($"relay {relay} is not configured (see vio4wdctl status)");
        }

        if (cpus.Count > 2)
        {
            throw new ControlRequestException($"give one CPU for both directions or two (VF to VM, VM to VF), not {cpus.Count}");
        }

        int[] idle = [.. cpus.Where(c => !running.WorkerCpus.Contains(c))];
        if (idle.Length > 0)
        {
            throw new ControlRequestException($"CPU {idle[0]} runs no worker; worker CPUs are {string.Join(',', running.WorkerCpus)}");
        }

        desired.SetPinOverride(relay, cpus.Count == 0 ? null : new CpuPins(cpus[0], cpus[^1]));
        PassResult? pass = await passes.WaitForPassAsync(relay, desired.GenerationOf(relay), PassResults.ApplyTimeout, _time).ConfigureAwait(false);
        RelayStatus status = (pass is null ? null : statuses.Get(relay))
            ?? throw new ControlRequestException($"relay {relay}: the change was not applied within {PassResults.ApplyTimeout.TotalSeconds:0} s"
                + (statuses.Get(relay)?.LastError is { } error ? $": {error}" : string.Empty));
        RelayState live = await running.GetRelayAsync(relay).ConfigureAwait(false);
        return RelayViews.Of(status with { Live = live }, plugs?.Last(relay));
    }

    /// <summary>What sources refused from their input, and the claims that lost to earlier ones.</summary>
    public Task<IReadOnlyList<RejectedRequest>> RejectedAsync() =>
        Task.FromResult<IReadOnlyList<RejectedRequest>>([
            .. rejected.All(),
            .. desired.Refusals.Select(r => new RejectedRequest(r.Source, r.Subject, r.Reason)),
        ]);

    public Task<string> VersionAsync() => Task.FromResult(version);

    public Task<DaemonView> DaemonAsync() => Task.FromResult(new DaemonView(
        version,
        Environment.ProcessId,
        _started,
        ready(),
        [.. parts.All().Select(p => new PartView(p.Name, p.Kind, p.State.ToString(), p.Since, p.Detail, p.LastError, p.LastErrorTime, p.Restarts))]));

    public Task<HealthView> HealthAsync()
    {
        HealthReport live = controls.Health.Liveness();
        HealthReport readiness = controls.Health.Readiness();
        return Task.FromResult(new HealthView(live.Ok, readiness.Ok, Checks(live), Checks(readiness)));

        static IReadOnlyList<HealthCheckView> Checks(HealthReport report) => [.. report.Checks.Select(c => new HealthCheckView(c.Name, c.Ok, c.Message))];
    }

    public async Task<ConfigView> ConfigAsync()
    {
        (string? file, string settings) = controls.Settings();
        IReadOnlyList<WorkerMapView> map = [];
        if (dataplane() is { } running)
        {
            IReadOnlyList<RelayState> relays = await running.ListRelaysAsync().ConfigureAwait(false);
            IReadOnlyList<WorkerLoad> workers = await running.GetWorkerLoadsAsync().ConfigureAwait(false);
            map = [.. workers.Select(w => new WorkerMapView(w.Cpu, w.NumaNode, LoadSampler.DirectionsOn(w.Cpu, relays)))];
        }

        return new ConfigView(file, settings, map);
    }

    public Task<LogLevelView> LogLevelAsync(int? level)
    {
        int previous = controls.LogLevel();
        if (level is { } wanted)
        {
            if (wanted is < 0 or > 7)
            {
                throw new ControlRequestException($"the log level is 0 (emergencies only) to 7 (debug), not {wanted}");
            }

            controls.SetLogLevel(wanted);
        }

        return Task.FromResult(new LogLevelView(controls.LogLevel(), previous));
    }

    public async Task<ReloadView> ReloadAsync()
    {
        // The static source reloads between its other work; a source that is restarting answers late or not at all.
        using var timeout = new CancellationTokenSource(ReloadTimeout, _time);
        try
        {
            return await controls.Reload(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new ControlRequestException($"the configuration source did not reload within {ReloadTimeout.TotalSeconds:0} s (see vio4wdctl daemon)");
        }
    }

    public Task<TopView> TopAsync(int delayMs)
    {
        if (delayMs is < 0 or > MaxStatsDelayMs)
        {
            throw new ControlRequestException($"the delay is 0 to {MaxStatsDelayMs} ms, not {delayMs}");
        }

        return LoadSampler.SampleAsync(Running(), TimeSpan.FromMilliseconds(delayMs), _time);
    }

    private IDataplane Running() => dataplane() ?? throw new ControlRequestException("the dataplane is still starting; try again in a moment");

    // A relay the reconciler has not had a pass at yet.
    private RelayStatus Pending(DesiredRelay want) => new RelayStatus
    {
        Id = want.Spec.RelayId,
        Created = _time.GetUtcNow(),
        Source = want.Source,
        Spec = want.Spec,
        Generation = want.Generation,
    }.WithCondition(ConditionTypes.Ready, null, "Pending", "waiting for the first pass of the reconciler", _time.GetUtcNow());
}
