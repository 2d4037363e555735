using Google.Protobuf;
using Vio4wd.Contracts.Stats;
using Vio4wd.Core.Stats;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Zmq;

namespace Vio4wd.Api.Zmq;

/// <summary>
/// The original's stats service: <see cref="StatsRequest"/> in, <see cref="StatsResponse"/> out.
/// Relays in the order asked (all ids in order when none are named), out-of-range ids skipped,
/// inactive ones only when asked; rates over the request's <c>delay</c>, measured for it alone.
/// </summary>
public sealed class StatsService(IDataplane dataplane, TimeProvider? time = null)
{
    /// <summary>As the original's buffer: a longer request cannot be a valid one.</summary>
    public const int MaxRequestBytes = 512;

    /// <summary>The original busy-waited any delay; a minute is the most anyone is given here.</summary>
    public const uint MaxDelayMs = 60_000;

    public async Task<byte[]> HandleAsync(ZmqRequest request)
    {
        if (request.Frames != 1 || request.Bytes.Length > MaxRequestBytes || Parse(request.Bytes) is not { } stats || stats.Delay > MaxDelayMs)
        {
            return Status(StatsResponse.Types.Status.Ebadr);
        }

        if (stats.Relay.Count > dataplane.MaxRelays)
        {
            return Status(StatsResponse.Types.Status.E2Big);
        }

        // Worker counters around the same window as the relays' rates.
        IReadOnlyList<WorkerLoad> workersBefore = await dataplane.GetWorkerLoadsAsync().ConfigureAwait(false);
        long started = (time ?? TimeProvider.System).GetTimestamp();
        IReadOnlyDictionary<int, RelayStatsSample> samples = await StatsSampler.SampleAsync(dataplane, TimeSpan.FromMilliseconds(stats.Delay), time).ConfigureAwait(false);
        IReadOnlyList<WorkerLoad> workersAfter = await dataplane.GetWorkerLoadsAsync().ConfigureAwait(false);
        double seconds = (time ?? TimeProvider.System).GetElapsedTime(started).TotalSeconds;
        IEnumerable<int> ids = stats.Relay.Count == 0 ? Enumerable.Range(0, dataplane.MaxRelays) : stats.Relay.Where(r => r < dataplane.MaxRelays).Select(r => (int)r);
        var response = new StatsResponse { Status = StatsResponse.Types.Status.Ok };
        foreach (int id in ids)
        {
            RelayStatsSample sample = samples.GetValueOrDefault(id) ?? StatsSampler.Empty(id);
            if (stats.IncludeInactive || sample.Active)
            {
                response.Relay.Add(RelayStateMessage.From(sample));
            }
        }

        Dictionary<int, WorkerLoad> first = workersBefore.ToDictionary(w => w.Cpu);
        foreach (WorkerLoad after in workersAfter)
        {
            WorkerLoad before = first.GetValueOrDefault(after.Cpu) ?? after;
            response.Worker.Add(new WorkerStats
            {
                Cpu = (uint)after.Cpu,
                BusyRatio = after.BusyFractionSince(before),
                PacketRate = seconds <= 0 ? 0 : after.PacketsSince(before) / seconds,
                NumaNode = (uint)Math.Max(after.NumaNode, 0),
            });
        }

        return response.ToByteArray();
    }

    private static StatsRequest? Parse(byte[] bytes)
    {
        try
        {
            return StatsRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static byte[] Status(StatsResponse.Types.Status status) => new StatsResponse { Status = status }.ToByteArray();
}
