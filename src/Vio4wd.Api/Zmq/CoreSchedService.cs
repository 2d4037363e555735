using Google.Protobuf;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Contracts;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Zmq;

namespace Vio4wd.Api.Zmq;

/// <summary>
/// The original's core-scheduler service. GET_EAL_CORES: the worker CPUs. UPDATE: moves relays'
/// directions to worker CPUs; the whole map is checked first and applied at once or not at all
/// (the original applied entries one by one and could abort half-way), and the answer comes once
/// the reconciler has moved them. The moves are pins in the desired state, like
/// <c>vio4wdctl pin</c>, so they survive reloads.
/// </summary>
public sealed class CoreSchedService(IDataplane dataplane, DesiredStateStore desired, PassResults passes, TimeProvider? time = null)
{
    public const int MaxRequestBytes = 1024;
    public const string UpdateSource = "migrate_relay_cpus()";
    public const string CoresSource = "worker core request";
    private const int EInval = 22;

    public async Task<byte[]> HandleAsync(ZmqRequest request)
    {
        CoreSchedRequest? sched = request.Frames == 1 && request.Bytes.Length <= MaxRequestBytes ? Parse(request.Bytes) : null;
        return (sched?.Op switch
        {
            CoreSchedRequest.Types.Op.GetEalCores => Cores(),
            CoreSchedRequest.Types.Op.Update => await UpdateAsync(sched.RelayCpuMap).ConfigureAwait(false),
            _ => new CoreSchedResponse { Status = CoreSchedResponse.Types.Status.Error },
        }).ToByteArray();
    }

    private CoreSchedResponse Cores()
    {
        if (dataplane.WorkerCpus.Count == 0)
        {
            return Error(1, CoresSource);
        }

        var response = new CoreSchedResponse { Status = CoreSchedResponse.Types.Status.Ok };
        response.EalCores.AddRange(dataplane.WorkerCpus.Order().Select(c => (uint)c));
        return response;
    }

    private async Task<CoreSchedResponse> UpdateAsync(Google.Protobuf.Collections.RepeatedField<CoreSchedRequest.Types.RelayCPU> map)
    {
        bool Valid(CoreSchedRequest.Types.RelayCPU e) =>
            e.RelayNumber >= 0 && e.RelayNumber < dataplane.MaxRelays
            && dataplane.WorkerCpus.Contains(e.Vf2VirtioCpu) && dataplane.WorkerCpus.Contains(e.Virtio2VfCpu);
        if (map.Count == 0)
        {
            return new CoreSchedResponse { Status = CoreSchedResponse.Types.Status.Error };
        }

        if (!map.All(Valid) || map.Select(e => e.RelayNumber).Distinct().Count() != map.Count)
        {
            return Error(EInval, UpdateSource);
        }

        desired.SetPinOverrides([.. map.Select(e => (e.RelayNumber, (CpuPins?)new CpuPins(e.Vf2VirtioCpu, e.Virtio2VfCpu)))]);
        // Every move at once: the passes run in parallel with each other's waits.
        PassResult?[] moved = await Task.WhenAll(map.Where(e => desired.Get(e.RelayNumber) is not null)
            .Select(e => passes.WaitForPassAsync(e.RelayNumber, desired.GenerationOf(e.RelayNumber), PassResults.ApplyTimeout, time))).ConfigureAwait(false);
        return moved.All(pass => pass is { Failed: false })
            ? new CoreSchedResponse { Status = CoreSchedResponse.Types.Status.Ok }
            : Error(EInval, UpdateSource);
    }

    private static CoreSchedResponse Error(int code, string source) =>
        new() { Status = CoreSchedResponse.Types.Status.Error, ErrorCode = code, ErrorCodeSource = source };

    private static CoreSchedRequest? Parse(byte[] bytes)
    {
        try
        {
            return CoreSchedRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }
}
