using Vio4wd.Dataplane;
using Vio4wd.Dataplane.Model;

namespace Vio4wd.Core.Stats;

/// <summary>
/// Counters of every relay the dataplane holds, and rates over a window this caller alone
/// measures (two readings <c>delay</c> apart), so concurrent clients never shorten each other's
/// windows as they did with the original's shared snapshots.
/// </summary>
public static class StatsSampler
{
    public static async Task<IReadOnlyDictionary<int, RelayStatsSample>> SampleAsync(IDataplane dataplane, TimeSpan delay, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        time ??= TimeProvider.System;
        long start = time.GetTimestamp();
        IReadOnlyList<RelayState> before = await dataplane.ListRelaysAsync(cancellationToken).ConfigureAwait(false);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<RelayState> after = await dataplane.ListRelaysAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan elapsed = time.GetElapsedTime(start);
        Dictionary<int, RelayState> first = before.ToDictionary(r => r.Id);
        return after.ToDictionary(r => r.Id, r => RelayStatsSample.Between(first.GetValueOrDefault(r.Id) ?? r, r, elapsed));
    }

    /// <summary>A relay with nothing on either side, as the stats services report unused relay ids.</summary>
    public static RelayStatsSample Empty(int relay) => RelayStatsSample.Between(EmptyState(relay), EmptyState(relay), TimeSpan.Zero);

    private static RelayState EmptyState(int relay) => new()
    {
        Id = relay,
        Vm = new VmSide(),
        Device = new DeviceSide(),
        VfToVm = new DirectionPlacement(null, null),
        VmToVf = new DirectionPlacement(null, null),
        VfToVmStats = new DirectionStats(),
        VmToVfStats = new DirectionStats(),
    };
}
