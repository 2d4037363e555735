using Google.Protobuf;
using Vio4wd.Core.Configuration;
using Vio4wd.Zmq.Protocol;

namespace Vio4wd.Zmq.Services;

/// <summary>
/// The original's config service: the static CPU pins of the configuration (<c>--virtio-cpu</c>),
/// not where directions run now (that is the stats service's <c>cpu</c>, or vio4wdctl).
/// </summary>
public sealed class ConfigService(IReadOnlyList<CpuPin> staticPins)
{
    public const int MaxRequestBytes = 512;

    public Task<byte[]> HandleAsync(ZmqRequest request)
    {
        if (request.Frames != 1 || request.Bytes.Length > MaxRequestBytes || !Parses(request.Bytes))
        {
            return Task.FromResult(new ConfigResponse { Status = ConfigResponse.Types.Status.Ebadr }.ToByteArray());
        }

        var response = new ConfigResponse { Status = ConfigResponse.Types.Status.Ok };
        response.RelayCpuMap.AddRange(staticPins.OrderBy(p => p.RelayId).Select(p => new ConfigResponse.Types.RelayCPU
        {
            RelayNumber = p.RelayId,
            Vf2VirtioCpu = p.VfToVmCpu,
            Virtio2VfCpu = p.VmToVfCpu,
        }));
        return Task.FromResult(response.ToByteArray());
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
