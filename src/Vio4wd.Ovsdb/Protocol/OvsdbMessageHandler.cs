using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Vio4wd.Ovsdb.Protocol;

/// <summary>
/// JSON-RPC 1.0 as OVSDB speaks it (RFC 7047): objects back to back with no framing. Reading
/// splits the stream with <see cref="JsonObjectScanner"/> and fixes what StreamJsonRpc would get
/// wrong: dates are left as strings, errors that are strings or OVSDB error objects become
/// JSON-RPC error objects (a bare string would kill the read loop), and notifications carrying
/// <c>"id": null</c> are marked as needing no reply (answering one makes ovsdb-server drop us).
/// </summary>
internal sealed class OvsdbMessageHandler : PipeMessageHandler
{
    /// <summary>Far above a full Interface table dump of a big host; a longer message is an error.</summary>
    public const long DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>The JSON-RPC error code given to OVSDB errors, which have none.</summary>
    public const int OvsdbErrorCode = -32000;

    private readonly JsonObjectScanner _scanner = new();
    private readonly long _maxMessageBytes;

    public OvsdbMessageHandler(Stream stream, long maxMessageBytes = DefaultMaxMessageBytes)
        : base(stream, stream, CreateFormatter())
    {
        _maxMessageBytes = maxMessageBytes;
    }

    public OvsdbMessageHandler(PipeWriter writer, PipeReader reader, long maxMessageBytes = DefaultMaxMessageBytes)
        : base(writer, reader, CreateFormatter())
    {
        _maxMessageBytes = maxMessageBytes;
    }

    private JsonMessageFormatter JsonFormatter => (JsonMessageFormatter)Formatter;

    public static JsonMessageFormatter CreateFormatter()
    {
        var formatter = new JsonMessageFormatter(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { ProtocolVersion = new Version(1, 0) };
        formatter.JsonSerializer.DateParseHandling = DateParseHandling.None;
        formatter.JsonSerializer.Formatting = Formatting.None;
        return formatter;
    }

    /// <summary>Rewrites an OVSDB error into the JSON-RPC shape; the original is kept as its data.</summary>
    internal static void NormaliseError(JObject message)
    {
        JToken? error = message["error"];
        if (error is null || error.Type == JTokenType.Null || (error is JObject o && o["code"] is not null))
        {
            return;
        }

        string text = error switch
        {
            JObject ovsdb when ovsdb["details"] is JToken details && details.Type != JTokenType.Null => $"{(string?)ovsdb["error"]}: {details}",
            JObject ovsdb => (string?)ovsdb["error"] ?? ovsdb.ToString(Formatting.None),
            JValue value => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => error.ToString(Formatting.None),
        };
        message["error"] = new JObject { ["code"] = OvsdbErrorCode, ["message"] = text, ["data"] = error };
    }

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await Reader!.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long end;
            try
            {
                end = _scanner.FindEnd(buffer);
            }
            catch (InvalidDataException)
            {
                Reader.AdvanceTo(buffer.Start, buffer.End);
                throw;
            }

            if (end >= 0)
            {
                JsonRpcMessage message = Deserialize(buffer.Slice(0, end));
                Reader.AdvanceTo(buffer.GetPosition(end));
                return message;
            }

            if (buffer.Length > _maxMessageBytes)
            {
                Reader.AdvanceTo(buffer.Start, buffer.End);
                throw new InvalidDataException($"an OVSDB message exceeds {_maxMessageBytes} bytes");
            }

            if (result.IsCompleted)
            {
                bool clean = IsWhitespace(buffer);
                Reader.AdvanceTo(buffer.End);
                return clean ? null : throw new EndOfStreamException("the OVSDB connection closed in the middle of a message");
            }

            Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    protected override void Write(JsonRpcMessage content, CancellationToken cancellationToken) =>
        JsonFormatter.Serialize(Writer!, content);

    private JsonRpcMessage Deserialize(ReadOnlySequence<byte> bytes)
    {
        JObject json;
        using (var reader = new JsonTextReader(new StringReader(Encoding.UTF8.GetString(bytes))) { DateParseHandling = DateParseHandling.None, MaxDepth = 256 })
        {
            json = JObject.Load(reader);
        }

        NormaliseError(json);
        JsonRpcMessage message;
        try
        {
            message = JsonFormatter.Deserialize(json);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or FormatException or InvalidOperationException)
        {
            // Valid JSON in the wrong shape ("method":[], found by fuzzing): the formatter's own
            // exceptions say nothing of where they came from.
            throw new InvalidDataException($"not a JSON-RPC message: {e.Message}", e);
        }

        if (message is JsonRpcRequest request && request.RequestId.IsNull)
        {
            request.RequestId = default;
        }

        return message;
    }

    private static bool IsWhitespace(ReadOnlySequence<byte> buffer)
    {
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
