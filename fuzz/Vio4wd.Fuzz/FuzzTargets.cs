using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vio4wd.Api.Zmq;
using Vio4wd.Contracts;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Ovsdb.Protocol;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Zmq;
using Vio4wd.Zmq;

namespace Vio4wd.Fuzz;

/// <summary>
/// One entry per parser of untrusted input. A target returns normally for any input the parser
/// refuses or accepts; an exception out of a target is a finding (the fuzzer reports it as a
/// crash), except the exceptions a parser documents as its way of refusing.
/// Nothing here touches the instrumented assemblies before a target first runs: instrumented
/// code may only run once SharpFuzz has attached to afl-fuzz's shared memory.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["ovsdb-framing"] = OvsdbFraming,
        ["config-file"] = ConfigFile,
        ["getopt"] = CommandLine,
        ["file-command"] = FileCommandText,
        ["zmq-port-control"] = PortControlRequest,
        ["zmq-stats"] = StatsRequest,
        ["zmq-config"] = ConfigRequest,
    };

    private static class State
    {
        public static readonly ConfigLimits Limits = new(MaxRelays: 32, MaxCpus: 128);
        private static readonly FuzzDataplane Dataplane = new();
        public static readonly StatsService Stats = new(Dataplane, new ImmediateTimeProvider());
        public static readonly ConfigService Config = new([new CpuPin(0, 1, 1)], Dataplane);
        public static readonly PortControlSource PortControl = new(
            new ZmqBinding(new ZmqEndpoint("ipc:///run/vio/port_control"), ZmqSecurity.IpcOnly, _ => { }), VhostMode.Server, ["/run/vio"], NullLogger.Instance);
    }

    /// <summary>Bytes from ovsdb-server (or whoever answers on its socket) through the JSON-RPC framing.</summary>
    private static void OvsdbFraming(byte[] data)
    {
        var input = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
        var output = new Pipe();
        input.Writer.WriteAsync(data).AsTask().GetAwaiter().GetResult();
        input.Writer.Complete();
        using var handler = new OvsdbMessageHandler(output.Writer, input.Reader, maxMessageBytes: 1 << 20);
        try
        {
            while (handler.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult() is not null)
            {
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or Newtonsoft.Json.JsonException)
        {
            // The connection is dropped and the monitor reconnects.
        }
    }

    /// <summary>The --config file (root's, but it must never crash the daemon either).</summary>
    private static void ConfigFile(byte[] data)
    {
        string text = Encoding.UTF8.GetString(data);
        _ = ConfigurationLoader.Load(["--config", "/etc/default/virtioforwarder"], State.Limits, _ => text);
    }

    /// <summary>The daemon's command line: arguments separated by NUL bytes.</summary>
    private static void CommandLine(byte[] data)
    {
        string[] args = Encoding.UTF8.GetString(data).Split('\0');
        _ = ConfigurationLoader.Load(args, State.Limits, _ => "VIRTIOFWD_CPU_MASK=1\n");
    }

    /// <summary>The file monitor's command file (/tmp/vio_cmd): any local user may write one.</summary>
    private static void FileCommandText(byte[] data) => _ = FileCommand.Parse(data, out _);

    // The first byte 0xff makes a two-frame request: frame counts are part of what clients send.
    private static ZmqRequest Request(byte[] data) => new(data, data.Length > 0 && data[0] == 0xff ? 2 : 1);

    private static void PortControlRequest(byte[] data) => _ = State.PortControl.Accepts(Request(data), out _, out _, out _);

    private static void StatsRequest(byte[] data) => Answered(State.Stats.HandleAsync(Request(data)));

    private static void ConfigRequest(byte[] data) => Answered(State.Config.HandleAsync(Request(data)));

    private static void Answered(Task<byte[]> reply)
    {
        if (reply.GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException("a ZMQ request got no answer");
        }
    }
}
