using Google.Protobuf;
using Vio4wd.Zmq;

namespace Vio4wd.Ctl;

/// <summary>One request to one of the daemon's ZMQ services (REQ/REP, protobuf), as the original's scripts sent them.</summary>
internal static class ZmqAsk
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>The answer, or a <see cref="CtlException"/> that says why there is none.</summary>
    public static async Task<T> RequestAsync<T>(string endpoint, IMessage request, MessageParser<T> parser, string service, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        byte[]? reply;
        try
        {
            reply = await Task.Run(() => ZmqClient.Request(endpoint, request.ToByteArray(), Timeout), cancellationToken).ConfigureAwait(false);
        }
        catch (ZmqException e)
        {
            throw new CtlException(e.Message);
        }

        if (reply is null)
        {
            throw new CtlException($"no answer from {endpoint} within {Timeout.TotalSeconds:0} s (is virtio-forwarder running with its {service} service there?)");
        }

        try
        {
            return parser.ParseFrom(reply);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CtlException($"the answer from {endpoint} is not a {typeof(T).Name}: {e.Message}");
        }
    }
}
