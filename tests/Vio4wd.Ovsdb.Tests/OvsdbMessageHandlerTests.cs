using System.IO.Pipelines;
using System.Text;
using Newtonsoft.Json.Linq;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;
using Vio4wd.Ovsdb.Protocol;

namespace Vio4wd.Ovsdb.Tests;

/// <summary>The framing and fix-ups of <see cref="OvsdbMessageHandler"/>, with pipes standing in for the socket.</summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public class OvsdbMessageHandlerTests
{
    private readonly Pipe _fromServer = new();
    private readonly Pipe _toServer = new();

    private OvsdbMessageHandler Handler() => new(_toServer.Writer, _fromServer.Reader);

    private async Task SendAsync(string json)
    {
        await _fromServer.Writer.WriteAsync(Encoding.UTF8.GetBytes(json));
    }

    [Test]
    public async Task An_object_split_across_reads_is_read_once_it_is_complete()
    {
        OvsdbMessageHandler handler = Handler();
        string json = """{"id":3,"result":{"Interface":{}},"error":null}""";
        await SendAsync(json[..10]);
        ValueTask<JsonRpcMessage?> reading = handler.ReadAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.That(reading.IsCompleted, Is.False, "half an object is not a message");
        await SendAsync(json[10..30]);
        await SendAsync(json[30..]);
        var result = (JsonRpcResult?)await reading;
        Assert.That(result!.RequestId.Number, Is.EqualTo(3));
    }

    [Test]
    public async Task Several_objects_in_one_read_come_out_one_by_one()
    {
        OvsdbMessageHandler handler = Handler();
        await SendAsync("""{"id":1,"result":[],"error":null} {"id":2,"result":[],"error":null}""" + "\n" + """{"id":3,"result":[],"error":null}""");
        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add(((JsonRpcResult?)await handler.ReadAsync(CancellationToken.None))!.RequestId.Number!.Value);
        }

        Assert.That(ids, Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Braces_and_escapes_inside_strings_do_not_end_an_object_and_dates_stay_strings()
    {
        using var rpc = new JsonRpc(Handler());
        rpc.StartListening();
        Task<JToken> call = rpc.InvokeAsync<JToken>("list_dbs");
        await SendAsync("""{"id":2,"result":["a}b{c", "q\"}\\", "]", "2024-01-01T00:00:00Z"],"error":null}""");
        JToken result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(result.Select(t => (string)t!), Is.EqualTo(new[] { "a}b{c", "q\"}\\", "]", "2024-01-01T00:00:00Z" }));
    }

    [Test]
    public async Task A_10_MB_update_is_read_whole()
    {
        OvsdbMessageHandler handler = Handler();
        string big = new('x', 10 * 1024 * 1024);
        string json = "{\"id\":null,\"method\":\"update2\",\"params\":[\"m\",{\"Interface\":{\"u1\":{\"insert\":{\"name\":\"eth0\",\"external_ids\":[\"map\",[[\"note\",\"" + big + "\"]]]}}}}]}";
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        Task writing = Task.Run(async () =>
        {
            for (int at = 0; at < bytes.Length; at += 65536)
            {
                await _fromServer.Writer.WriteAsync(bytes.AsMemory(at, Math.Min(65536, bytes.Length - at)));
            }
        });
        var request = (JsonRpcRequest?)await handler.ReadAsync(CancellationToken.None);
        await writing;
        Assert.That(request!.TryGetArgumentByNameOrIndex(null, 1, typeof(JToken), out object? updates), Is.True);
        Assert.That(((JToken)updates!).SelectToken("Interface.u1.insert.external_ids[1][0][1]")!.ToString(), Has.Length.EqualTo(big.Length));
    }

    [Test]
    public async Task A_notification_with_id_null_is_handled_and_never_answered()
    {
        using var rpc = new JsonRpc(Handler());
        var seen = new TaskCompletionSource<string>();
        rpc.AddLocalRpcMethod("update2", new Action<JToken, JToken>((id, _) => seen.TrySetResult((string)id!)));
        rpc.StartListening();
        await SendAsync("""{"id":null,"method":"update2","params":["mon1",{"Interface":{}}]}""");
        Assert.That(await seen.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("mon1"));

        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        Assert.That(async () => await _toServer.Reader.ReadAsync(quiet.Token), Throws.InstanceOf<OperationCanceledException>(),
            "a reply to a notification makes ovsdb-server drop the connection");
    }

    [Test]
    public async Task String_errors_become_remote_errors_with_their_text_and_the_session_survives()
    {
        using var rpc = new JsonRpc(Handler()) { CancellationStrategy = null };
        rpc.StartListening();
        Task<JToken> bad = rpc.InvokeAsync<JToken>("no_such_method");
        await SendAsync("""{"id":2,"error":"unknown method"}""");
        var error = await Assert.ThrowsAsync<RemoteInvocationException>(async () => await bad.WaitAsync(TimeSpan.FromSeconds(10)));
        Task<JToken> good = rpc.InvokeAsync<JToken>("list_dbs");
        await SendAsync("""{"id":3,"result":["Open_vSwitch"],"error":null}""");
        Assert.Multiple(async () =>
        {
            Assert.That(error!.Message, Is.EqualTo("unknown method"));
            Assert.That(error.ErrorCode, Is.EqualTo(OvsdbMessageHandler.OvsdbErrorCode));
            Assert.That((await good.WaitAsync(TimeSpan.FromSeconds(10)))[0]!.ToString(), Is.EqualTo("Open_vSwitch"));
        });
    }

    [Test]
    public void Ovsdb_error_objects_keep_their_tag_and_details()
    {
        var message = JObject.Parse("""{"id":9,"error":{"error":"unknown database","details":"No_such_db"},"result":null}""");
        OvsdbMessageHandler.NormaliseError(message);
        Assert.That((string?)message["error"]!["message"], Is.EqualTo("unknown database: No_such_db"));
        Assert.That((string?)message["error"]!["data"]!["error"], Is.EqualTo("unknown database"));
    }

    [Test]
    public async Task Garbage_between_messages_or_a_message_cut_by_the_close_fails_the_read()
    {
        OvsdbMessageHandler handler = Handler();
        await SendAsync("""{"id":1,"result":[],"error":null} hello""");
        Assert.That(await handler.ReadAsync(CancellationToken.None), Is.Not.Null);
        await Assert.ThrowsAsync<InvalidDataException>(async () => await handler.ReadAsync(CancellationToken.None));

        var pipe = new Pipe();
        var cut = new OvsdbMessageHandler(_toServer.Writer, pipe.Reader);
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes("""{"id":1,"resu"""));
        await pipe.Writer.CompleteAsync();
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await cut.ReadAsync(CancellationToken.None));
    }

    [Test]
    public async Task Requests_go_out_as_compact_json_rpc_1_0_with_positional_params()
    {
        using var rpc = new JsonRpc(Handler()) { CancellationStrategy = null };
        rpc.StartListening();
        _ = rpc.InvokeAsync<JToken>("transact", "Open_vSwitch", new JObject { ["op"] = "select", ["table"] = "Interface", ["where"] = new JArray() });
        ReadResult sent = await _toServer.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        string text = Encoding.UTF8.GetString(sent.Buffer);
        Assert.That(text, Does.Match("""^\{"id":\d+,"method":"transact","params":\["Open_vSwitch",\{"op":"select","table":"Interface","where":\[\]\}\]\}$"""));
    }
}
