using Vio4wd.Ovsdb.Model;
using Vio4wd.Testing;

namespace Vio4wd.Ovsdb.Tests;

/// <summary><see cref="OvsdbMonitor"/> across server restarts, against a real ovsdb-server.</summary>
public class OvsdbMonitorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly MonitorRequest Interfaces = new("Interface", ["name", "external_ids"]);

    [Test]
    public async Task After_the_server_comes_back_the_monitor_reconnects_on_its_own_and_sees_what_changed_while_it_was_away()
    {
        await using OvsdbServer server = await OvsdbServer.StartAsync();
        await server.VsctlAsync("add-br", "br0", "--", "add-port", "br0", "eth100", "--", "add-port", "br0", "eth101");
        string eth100Port = await server.VsctlAsync("get", "port", "eth100", "_uuid");
        var snapshots = new SnapshotLog();
        var connections = new List<bool>();
        var monitor = new OvsdbMonitor(OvsdbEndpoint.Parse(server.Endpoint), "Open_vSwitch", [Interfaces],
            new OvsdbMonitorOptions { ReconnectMin = TimeSpan.FromMilliseconds(50), ReconnectMax = TimeSpan.FromMilliseconds(400) })
        {
            SnapshotChanged = snapshots.AddAsync,
            ConnectionChanged = up =>
            {
                lock (connections)
                {
                    connections.Add(up);
                }
            },
        };
        using var stop = new CancellationTokenSource();
        Task running = monitor.RunAsync(stop.Token);
        try
        {
            await snapshots.WaitForAsync(s => Names(s).SetEquals(["br0", "eth100", "eth101"]), "the initial rows");
            await server.VsctlAsync("set", "interface", "eth101", "external_ids:virtio_forwarder=1");
            await snapshots.WaitForAsync(s => s.Rows("Interface").Any(r => r.Text("name") == "eth101" && r.Map("external_ids").ContainsKey("virtio_forwarder")), "the change");

            server.Kill();
            await Eventually(() => !monitor.IsConnected, "the monitor noticed the server is gone");
            await server.TransactFileAsync($$"""["Open_vSwitch",{"op":"mutate","table":"Bridge","where":[["name","==","br0"]],"mutations":[["ports","delete",["set",[["uuid","{{eth100Port}}"]]]]]}]""");
            await Task.Delay(500); // a few reconnect attempts fail meanwhile
            await server.RestartAsync();

            await snapshots.WaitForAsync(s => Names(s).SetEquals(["br0", "eth101"]), "eth100, removed while the monitor was away, is gone");
            Assert.Multiple(() =>
            {
                Assert.That(monitor.IsConnected, Is.True);
                lock (connections)
                {
                    Assert.That(connections, Is.EqualTo(new[] { true, false, true }));
                }
            });
        }
        finally
        {
            await stop.CancelAsync();
            await running.WaitAsync(Patience);
        }
    }

    [Test]
    public async Task A_transaction_without_a_session_fails_with_a_clear_error()
    {
        var monitor = new OvsdbMonitor(OvsdbEndpoint.Parse("unix:/nonexistent/db.sock"), "Open_vSwitch", [Interfaces]);
        var error = await Assert.ThrowsAsync<OvsdbException>(() => monitor.TransactAsync([]));
        Assert.That(error!.Message, Is.EqualTo("not connected to OVSDB at unix:/nonexistent/db.sock"));
    }

    private static HashSet<string?> Names(OvsdbSnapshot snapshot) => [.. snapshot.Rows("Interface").Select(r => r.Text("name"))];

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), what);
            await Task.Delay(10);
        }
    }

    /// <summary>The snapshots a monitor published, and a way to wait for one.</summary>
    private sealed class SnapshotLog
    {
        private readonly List<OvsdbSnapshot> _snapshots = [];

        public Task AddAsync(OvsdbSnapshot snapshot, CancellationToken cancellationToken)
        {
            lock (_snapshots)
            {
                _snapshots.Add(snapshot);
            }

            return Task.CompletedTask;
        }

        public Task WaitForAsync(Func<OvsdbSnapshot, bool> condition, string what) => Eventually(() =>
        {
            lock (_snapshots)
            {
                return _snapshots.Count > 0 && condition(_snapshots[^1]);
            }
        }, what);
    }
}
