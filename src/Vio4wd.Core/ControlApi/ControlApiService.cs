using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.ControlApi;

namespace Vio4wd.Core.ControlApi;

/// <summary>
/// The control API over the reconciler's statuses, the desired state and the dataplane's live
/// counters. Requests that change something go through the desired state, never around the
/// reconciler, and answer once it has acted.
/// </summary>
public sealed class ControlApiService(
    RelayStatusStore statuses,
    DesiredStateStore desired,
    RejectedRequests rejected,
    IDataplane dataplane,
    string version,
    TimeProvider? time = null) : IControlApi
{
    public const int MaxStatsDelayMs = 60_000;

    private static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(10);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<IReadOnlyList<RelayView>> StatusAsync()
    {
        // One look at the dataplane for all relays; a relay it does not list has nothing live.
        Dictionary<int, RelayState> live = (await dataplane.ListRelaysAsync().ConfigureAwait(false)).ToDictionary(r => r.Id);
        return [.. statuses.All().Select(status => RelayViews.Of(status with { Live = live.GetValueOrDefault(status.Id) }))];
    }

    public async Task<IReadOnlyList<RelayStatsSample>> StatsAsync(int delayMs, bool includeInactive)
    {
        if (delayMs is < 0 or > MaxStatsDelayMs)
        {
            throw new ControlRequestException($"the delay is 0 to {MaxStatsDelayMs} ms, not {delayMs}");
        }

        IReadOnlyDictionary<int, RelayStatsSample> samples = await StatsSampler.SampleAsync(dataplane, TimeSpan.FromMilliseconds(delayMs), _time).ConfigureAwait(false);
        return [.. samples.Values.Where(s => includeInactive || s.Active).OrderBy(s => s.Id)];
    }

    public async Task<RelayView> PinAsync(int relay, IReadOnlyList<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        if (desired.Get(relay) is null)
        {
            throw new ControlRequestException($"relay {relay} is not configured (see vio4wdctl status)");
        }

        if (cpus.Count > 2)
        {
            throw new ControlRequestException($"give one CPU for both directions or two (VF to VM, VM to VF), not {cpus.Count}");
        }

        int[] idle = [.. cpus.Where(c => !dataplane.WorkerCpus.Contains(c))];
        if (idle.Length > 0)
        {
            throw new ControlRequestException($"CPU {idle[0]} runs no worker; worker CPUs are {string.Join(',', dataplane.WorkerCpus)}");
        }

        desired.SetPinOverride(relay, cpus.Count == 0 ? null : new CpuPins(cpus[0], cpus[^1]));
        RelayStatus status = await ReconcilePasses.AppliedAsync(desired, statuses, relay, ApplyTimeout, _time).ConfigureAwait(false)
            ?? throw new ControlRequestException($"relay {relay}: the change was not applied within {ApplyTimeout.TotalSeconds:0} s"
                + (statuses.Get(relay)?.LastError is { } error ? $": {error}" : string.Empty));
        RelayState live = await dataplane.GetRelayAsync(relay).ConfigureAwait(false);
        return RelayViews.Of(status with { Live = live });
    }

    public Task<IReadOnlyList<RejectedRequest>> RejectedAsync() => Task.FromResult(rejected.All());

    public Task<string> VersionAsync() => Task.FromResult(version);
}
