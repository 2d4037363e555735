using Google.Protobuf;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.Protocol;
using RelayState = Vio4wd.Core.Dataplane.RelayState;
using Vio4wd.Zmq;

namespace Vio4wd.Api.Zmq;

/// <summary>
/// The original's config service: the static CPU pins of the configuration (<c>--virtio-cpu</c>),
/// and, new, where every relay's directions run now.
/// </summary>
public sealed class ConfigService(IReadOnlyList<CpuPin> staticPins, IDataplane dataplane)
{
    public const int MaxRequestBytes = 512;

    public async Task<byte[]> HandleAsync(ZmqRequest request)
    {
        if (request.Frames != 1 || request.Bytes.Length > MaxRequestBytes || !Parses(request.Bytes))
        {
            return new ConfigResponse { Status = ConfigResponse.Types.Status.Ebadr }.ToByteArray();
        }

        var response = new ConfigResponse { Status = ConfigResponse.Types.Status.Ok };
        response.RelayCpuMap.AddRange(staticPins.OrderBy(p => p.RelayId).Select(p => new ConfigResponse.Types.RelayCPU
        {
            RelayNumber = p.RelayId,
            Vf2VirtioCpu = p.VfToVmCpu,
            Virtio2VfCpu = p.VmToVfCpu,
        }));
        foreach (RelayState live in (await dataplane.ListRelaysAsync().ConfigureAwait(false)).OrderBy(r => r.Id))
        {
            response.LiveRelayCpuMap.Add(new ConfigResponse.Types.RelayCPU
            {
                RelayNumber = live.Id,
                Vf2VirtioCpu = live.VfToVm.Cpu ?? -1,
                Virtio2VfCpu = live.VmToVf.Cpu ?? -1,
            });
        }

        return response.ToByteArray();
    }

    private static bool Parses(byte[] bytes)
    {
        try
        {
            ConfigRequest.Parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }
}
