using System.IO.Pipelines;
using System.Text;
using Nerdbank.Streams;
using Newtonsoft.Json.Linq;
using Vio4wd.Ovsdb.Model;
using Vio4wd.Ovsdb.Protocol;

namespace Vio4wd.Ovsdb.Tests;

/// <summary>
/// What real servers here cannot show: a server without monitor_cond, the server's own echo
/// probes, and a server that never answers. A scripted peer plays the server.
/// </summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class OvsdbProtocolTests : IDisposable
{
    private readonly Stream _client;
    private readonly Stream _server;
    private readonly PipeReader _fromClient;

    public OvsdbProtocolTests()
    {
        (_client, _server) = FullDuplexStream.CreatePair();
        _fromClient = PipeReader.Create(_server);
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Test]
    public async Task Without_monitor_cond_it_falls_back_to_monitor_and_reads_old_style_updates()
    {
        await using OvsdbConnection connection = OvsdbConnection.Over(_client, TimeSpan.FromSeconds(10));
        Task<IReadOnlyList<RowChange>> monitoring = connection.MonitorAsync("Open_vSwitch", "m", [new MonitorRequest("Interface", ["name"], new JArray())]);

        JObject first = await ReceiveAsync();
        await SendAsync(new JObject { ["id"] = first["id"], ["error"] = "unknown method", ["result"] = null });
        JObject second = await ReceiveAsync();
        JObject rows = JObject.Parse("""{"Interface":{"u1":{"new":{"name":"eth0"}}}}""");
        await SendAsync(new JObject { ["id"] = second["id"], ["result"] = rows, ["error"] = null });
        IReadOnlyList<RowChange> initial = await monitoring.WaitAsync(TimeSpan.FromSeconds(10));

        await SendAsync(JObject.Parse("""{"id":null,"method":"update","params":["m",{"Interface":{"u1":{"old":{"name":"eth0"},"new":{"name":"eth1"}},"u2":{"new":{"name":"eth2"}}}}]}"""));
        MonitorUpdate update = await connection.Updates.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Multiple(() =>
        {
            Assert.That((string?)first["method"], Is.EqualTo("monitor_cond"));
            Assert.That((string?)second["method"], Is.EqualTo("monitor"));
            Assert.That(second["params"]![2]!["Interface"]![0]!["where"], Is.Null, "plain monitor has no conditions");
            Assert.That(connection.MonitorMethod, Is.EqualTo("monitor"));
            Assert.That(initial.Select(c => (c.Kind, (string?)c.Columns["name"])), Is.EqualTo(new[] { (RowChangeKind.Initial, "eth0") }));
            Assert.That(update.Changes.Select(c => (c.Kind, (string?)c.Columns["name"], c.IsDiff)),
                Is.EqualTo(new[] { (RowChangeKind.Modify, "eth1", false), (RowChangeKind.Insert, "eth2", false) }));
        });
    }

    [Test]
    public async Task The_servers_echo_probe_is_answered_with_its_id()
    {
        await using OvsdbConnection connection = OvsdbConnection.Over(_client, TimeSpan.FromSeconds(10));
        await SendAsync(JObject.Parse("""{"id":"echo","method":"echo","params":[]}"""));
        JObject reply = await ReceiveAsync();
        Assert.That(reply.ToString(Newtonsoft.Json.Formatting.None), Is.EqualTo("""{"id":"echo","result":[],"error":null}"""));
    }

    [Test]
    public async Task A_request_the_server_never_answers_times_out_and_ends_the_session()
    {
        await using OvsdbConnection connection = OvsdbConnection.Over(_client, TimeSpan.FromMilliseconds(300));
        var error = await Assert.ThrowsAsync<OvsdbException>(() => connection.ListDbsAsync());
        Assert.That(error!.Message, Is.EqualTo("list_dbs: no answer within 0.3 s"));
        await Task.WhenAny(connection.Completion, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.That(connection.Completion.IsCompleted, Is.True, "the session is over: a late answer must not be taken for another's");
    }

    private async Task SendAsync(JObject message)
    {
        await _server.WriteAsync(Encoding.UTF8.GetBytes(message.ToString(Newtonsoft.Json.Formatting.None)));
        await _server.FlushAsync();
    }

    /// <summary>The next message the client sent, split the way the client's own reader does.</summary>
    private async Task<JObject> ReceiveAsync()
    {
        var scanner = new JsonObjectScanner();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            ReadResult read = await _fromClient.ReadAsync(timeout.Token);
            long end = scanner.FindEnd(read.Buffer);
            if (end >= 0)
            {
                var message = JObject.Parse(Encoding.UTF8.GetString(read.Buffer.Slice(0, end)));
                _fromClient.AdvanceTo(read.Buffer.GetPosition(end));
                return message;
            }

            _fromClient.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }
}
