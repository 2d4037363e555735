using System.Diagnostics;

namespace Vio4wd.Testing;

/// <summary>
/// A private ovsdb-server with the Open_vSwitch schema on a unix socket in a temp directory
/// (no ovs-vswitchd: ovs-vsctl runs with --no-wait). Killed by PID and removed on dispose.
/// </summary>
public sealed class OvsdbServer : IAsyncDisposable
{
    private const string Schema = "/usr/share/openvswitch/vswitch.ovsschema";
    private readonly TempDirectory _dir = new();
    private Process? _process;

    private OvsdbServer()
    {
    }

    public string Socket => _dir.File("db.sock");

    public string Endpoint => $"unix:{Socket}";

    public string DatabaseFile => _dir.File("conf.db");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The loopback TCP port it also listens on, if asked to.</summary>
    public int? TcpPort { get; private init; }

    public static async Task<OvsdbServer> StartAsync(bool tcp = false)
    {
        var server = new OvsdbServer { TcpPort = tcp ? FreeLoopbackPort() : null };
        try
        {
            await RunAsync("ovsdb-tool", "create", server.DatabaseFile, Schema);
            await server.RestartAsync();
            await server.VsctlAsync("init");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same database file and socket.</summary>
    public async Task RestartAsync()
    {
        File.Delete(Socket); // a killed server leaves its socket: wait for the new one, not the stale one
        var info = new ProcessStartInfo("ovsdb-server")
        {
            ArgumentList =
            {
                DatabaseFile, $"--remote=punix:{Socket}", $"--unixctl={_dir.File("ovsdb-server.ctl")}",
                "--no-chdir", $"--log-file={_dir.File("ovsdb-server.log")}", "-vconsole:off",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        if (TcpPort is { } port)
        {
            info.ArgumentList.Add($"--remote=ptcp:{port}:127.0.0.1");
        }

        _process = Process.Start(info)!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(Socket))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"ovsdb-server did not start: {await _process.StandardError.ReadToEndAsync()}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Kills the server (SIGKILL: the socket file stays, as after a crash).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>ovs-vsctl against this server; returns its output, fails the test on an error.</summary>
    public Task<string> VsctlAsync(params string[] args) => RunAsync("ovs-vsctl", [$"--db={Endpoint}", "--no-wait", "--timeout=10", .. args]);

    /// <summary>Changes the database file directly, as an operator might while the server is down.</summary>
    public Task<string> TransactFileAsync(string transaction) => RunAsync("ovsdb-tool", "transact", DatabaseFile, transaction);

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        _dir.Dispose();
        await Task.CompletedTask;
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        (int code, string stdout, string stderr) = await Command.RunAsync(TimeSpan.FromMinutes(2), program, args);
        return code == 0 ? stdout.Trim()
            : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({code}): {stderr}");
    }
}
