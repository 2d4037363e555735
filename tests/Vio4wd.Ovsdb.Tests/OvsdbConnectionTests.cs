using Newtonsoft.Json.Linq;
using Vio4wd.Ovsdb.Model;
using Vio4wd.Testing;

namespace Vio4wd.Ovsdb.Tests;

/// <summary><see cref="OvsdbConnection"/> against a real ovsdb-server driven by ovs-vsctl.</summary>
public class OvsdbConnectionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly MonitorRequest Interfaces = new("Interface", ["name", "external_ids"]);

    private static Task<OvsdbConnection> ConnectAsync(OvsdbServer server) =>
        OvsdbConnection.ConnectAsync(OvsdbEndpoint.Parse(server.Endpoint), Patience, CancellationToken.None);

    [Test]
    public async Task Lists_databases_reads_the_schema_and_the_server_id_and_echoes()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync();
        await using OvsdbConnection connection = await ConnectAsync(server);
        IReadOnlyList<string> dbs = await connection.ListDbsAsync();
        JObject schema = await connection.GetSchemaAsync("Open_vSwitch");
        string id = await connection.GetServerIdAsync();
        await connection.EchoAsync();
        Assert.Multiple(() =>
        {
            Assert.That(dbs, Does.Contain("Open_vSwitch"));
            Assert.That((string?)schema["name"], Is.EqualTo("Open_vSwitch"));
            Assert.That(schema["tables"]!["Interface"], Is.Not.Null);
            Assert.That(id, Is.Not.Empty);
        });
    }

    [Test]
    public async Task A_monitor_sees_existing_rows_then_every_change_in_order_and_the_cache_follows_the_diffs()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync();
        await server.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "eth100", "--", "set", "interface", "eth100", "external_ids:virtio_forwarder=1", "external_ids:keep=me");
        await using OvsdbConnection connection = await ConnectAsync(server);
        var cache = new OvsdbTableCache();
        cache.Apply(await connection.MonitorAsync("Open_vSwitch", "m1", [Interfaces]));
        Assert.That(connection.MonitorMethod, Is.EqualTo("monitor_cond"));
        Assert.That(Row(cache, "eth100").Map("external_ids"), Is.EquivalentTo(new Dictionary<string, string> { ["virtio_forwarder"] = "1", ["keep"] = "me" }));

        await server.VsctlAsync("set", "interface", "eth100", "external_ids:virtio_forwarder=2", "external_ids:ts=2024-01-01T00:00:00Z");
        await server.VsctlAsync("remove", "interface", "eth100", "external_ids", "keep");
        await server.VsctlAsync("add-port", "br0", "eth101");
        await server.VsctlAsync("del-port", "br0", "eth100");
        var kinds = new List<string>();
        while (!kinds.Contains("Delete"))
        {
            MonitorUpdate update = await connection.Updates.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.That((string?)update.MonitorId, Is.EqualTo("m1"));
            foreach (RowChange change in update.Changes.Where(c => c.Table == "Interface"))
            {
                kinds.Add($"{change.Kind}");
                cache.Apply([change]);
                if (kinds.Count == 1)
                {
                    Assert.That(Row(cache, "eth100").Map("external_ids"), Is.EquivalentTo(new Dictionary<string, string>
                    {
                        ["virtio_forwarder"] = "2", ["keep"] = "me", ["ts"] = "2024-01-01T00:00:00Z",
                    }), "a map diff changes, adds and keeps keys; a date stays a string");
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(kinds, Is.EqualTo(new[] { "Modify", "Modify", "Insert", "Delete" }));
            Assert.That(cache.Snapshot().Rows("Interface").Select(r => r.Text("name")), Is.EquivalentTo(new[] { "br0", "eth101" }));
        });
    }

    [Test]
    public async Task A_transaction_mutates_only_the_keys_it_names_and_an_operation_error_is_named()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync();
        await server.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "eth100", "--", "set", "interface", "eth100", "external_ids:virtio_forwarder=1", "external_ids:other=keep");
        await using OvsdbConnection connection = await ConnectAsync(server);
        string uuid = await server.VsctlAsync("get", "interface", "eth100", "_uuid");
        JObject where = new() { ["op"] = "mutate", ["table"] = "Interface", ["where"] = new JArray { new JArray("_uuid", "==", new JArray("uuid", uuid)) } };
        JObject mutate = (JObject)where.DeepClone();
        mutate["mutations"] = new JArray(
            new JArray("external_ids", "delete", OvsdbDatum.ToSet(["virtio_forwarder_state"])),
            new JArray("external_ids", "insert", OvsdbDatum.ToMap([new("virtio_forwarder_state", "ready")])));
        JArray results = await connection.TransactAsync("Open_vSwitch", [mutate]);

        JObject bad = new() { ["op"] = "select", ["table"] = "Interface", ["where"] = new JArray(), ["columns"] = new JArray("nosuchcol") };
        var error = await Assert.ThrowsAsync<OvsdbException>(() => connection.TransactAsync("Open_vSwitch", [bad]));
        var unknownDb = await Assert.ThrowsAsync<OvsdbException>(() => connection.GetSchemaAsync("No_such_db"));
        Assert.Multiple(async () =>
        {
            Assert.That((int?)results[0]["count"], Is.EqualTo(1));
            Assert.That(await server.VsctlAsync("get", "interface", "eth100", "external_ids"),
                Is.EqualTo("{other=keep, virtio_forwarder=\"1\", virtio_forwarder_state=ready}"));
            Assert.That(error!.Message, Does.Contain("syntax error").And.Contain("nosuchcol is not a valid column name"));
            Assert.That(unknownDb!.Message, Does.Contain("unknown database"));
            Assert.That(await connection.ListDbsAsync(), Does.Contain("Open_vSwitch"), "errors do not end the session");
        });
    }

    [Test]
    public async Task It_speaks_tcp_too()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync(tcp: true);
        await using OvsdbConnection connection = await OvsdbConnection.ConnectAsync(OvsdbEndpoint.Parse($"tcp:127.0.0.1:{server.TcpPort}"), Patience, CancellationToken.None);
        Assert.That(await connection.ListDbsAsync(), Does.Contain("Open_vSwitch"));
    }

    [TestCase("db.sock", "'db.sock': expected unix:PATH, an absolute path or tcp:HOST:PORT (ssl is not supported)")]
    [TestCase("unix:db.sock", "'unix:db.sock': a unix socket needs an absolute path")]
    [TestCase("tcp:127.0.0.1", "'tcp:127.0.0.1': expected tcp:HOST:PORT")]
    [TestCase("ssl:127.0.0.1:6640", "'ssl:127.0.0.1:6640': expected unix:PATH, an absolute path or tcp:HOST:PORT (ssl is not supported)")]
    public void Bad_endpoints_are_named(string text, string message) =>
        Assert.That(() => OvsdbEndpoint.Parse(text), Throws.InstanceOf<FormatException>().With.Message.EqualTo(message));

    [Test]
    public async Task A_killed_server_ends_the_session_and_calls_fail_with_a_clear_error()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync();
        await using OvsdbConnection connection = await ConnectAsync(server);
        server.Kill();
        await connection.Completion.WaitAsync(Patience);
        var error = await Assert.ThrowsAsync<OvsdbException>(() => connection.ListDbsAsync());
        var refused = await Assert.ThrowsAsync<OvsdbException>(() => ConnectAsync(server));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.Contain("lost"));
            Assert.That(refused!.Message, Does.StartWith($"cannot connect to unix:{server.Socket}"));
        });
    }

    private static OvsdbRow Row(OvsdbTableCache cache, string name) =>
        cache.Snapshot().Rows("Interface").Single(r => r.Text("name") == name);
}
