using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Vio4wd.Ctl;

/// <summary>
/// The client side of the daemon's control protocol: JSON-RPC 2.0 requests framed with a
/// Content-Length header (StreamJsonRpc's HeaderDelimitedMessageHandler, which the daemon
/// serves), one at a time. The daemon's side stays StreamJsonRpc; this short-lived CLI speaks
/// the wire format itself because loading StreamJsonRpc cost it more than half of its start-up.
/// </summary>
internal sealed class JsonRpcConnection(Stream stream) : IDisposable
{
    /// <summary>Far above any answer (256 relays with their events are under a megabyte).</summary>
    private const int MaxMessageBytes = 64 << 20;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _id;

    public async Task<T> InvokeAsync<T>(string method, JsonTypeInfo<T> result, params object?[] arguments)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            int id = ++_id;
            await WriteAsync(Request(id, method, arguments)).ConfigureAwait(false);
            using JsonDocument answer = JsonDocument.Parse(await ReadAsync().ConfigureAwait(false));
            JsonElement root = answer.RootElement;
            if (root.TryGetProperty("error", out JsonElement error))
            {
                throw new CtlException(error.TryGetProperty("message", out JsonElement message) ? message.GetString() ?? "the daemon refused the request" : error.ToString());
            }

            if (!root.TryGetProperty("id", out JsonElement answered) || answered.ValueKind != JsonValueKind.Number || answered.GetInt32() != id)
            {
                throw new CtlException($"the daemon answered another request than {method}");
            }

            return root.GetProperty("result").Deserialize(result)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        stream.Dispose();
        _gate.Dispose();
    }

    private static byte[] Request(int id, string method, object?[] arguments)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("jsonrpc", "2.0");
            json.WriteNumber("id", id);
            json.WriteString("method", method);
            json.WriteStartArray("params");
            foreach (object? argument in arguments)
            {
                if (argument is null)
                {
                    json.WriteNullValue();
                }
                else
                {
                    JsonSerializer.Serialize(json, argument, argument.GetType(), ControlJsonContext.Default);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task WriteAsync(byte[] body)
    {
        byte[] header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n\r\n"));
        try
        {
            await stream.WriteAsync(header).ConfigureAwait(false);
            await stream.WriteAsync(body).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            throw Lost();
        }
    }

    private async Task<byte[]> ReadAsync()
    {
        int length = -1;
        string line;
        while ((line = await ReadLineAsync().ConfigureAwait(false)).Length > 0)
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line[(colon + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                length = value;
            }
        }

        if (length is < 0 or > MaxMessageBytes)
        {
            throw new CtlException("the daemon's answer has no usable Content-Length header");
        }

        byte[] body = new byte[length];
        try
        {
            await stream.ReadExactlyAsync(body).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            throw Lost();
        }

        return body;
    }

    // Header lines are ASCII and end with CRLF; read byte by byte so the body stays in the stream.
    private async Task<string> ReadLineAsync()
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(one).ConfigureAwait(false);
            }
            catch (IOException)
            {
                throw Lost();
            }

            if (read == 0)
            {
                throw Lost();
            }

            if (one[0] == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            if (line.Length > 1024)
            {
                throw new CtlException("the daemon's answer has an overlong header line");
            }

            line.Append((char)one[0]);
        }
    }

    private static DaemonUnreachableException Lost() => new("the daemon closed the connection (did it stop?)");
}
