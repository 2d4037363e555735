using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// Live migration of a real guest between two QEMU processes on this host: the source on relay 0,
/// the destination (started with -incoming) on relay 1, another VF. Both VFs are taps bridged in a
/// namespace that is the guest's peer; the guest pings it and downloads from it throughout.
/// </summary>
[NonParallelizable]
[Category("Qemu")] // real guests under QEMU (TCG): make test TEST_FILTER='TestCategory!=Qemu' leaves them out
public partial class LiveMigrationTests() : DaemonTest("migration")
{
    private static new readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [OneTimeSetUp]
    public static Task BuildGuestImage() => QemuGuest.BuildAsync();

    // The peer's side of the download: 24 MiB at about 2 MiB/s, so it spans the migration; prints
    // the MD5 of what it sent.
    private const string Server = """
        import hashlib, os, socket, sys, time
        payload = os.urandom(24 << 20)
        s = socket.create_server((sys.argv[1], 5002))
        print("LISTENING", flush=True)
        c, _ = s.accept()
        for i in range(0, len(payload), 64 << 10):
            c.sendall(payload[i:i + (64 << 10)])
            time.sleep(0.03)
        c.close()
        print("SENT", hashlib.md5(payload).hexdigest(), flush=True)
        """;

    [Test]
    public async Task A_guest_migrated_from_one_relay_to_another_keeps_working_and_what_the_relay_wrote_during_migration_arrives_intact()
    {
        using var dir = new TempDirectory();
        string tag = (Environment.ProcessId % 10000).ToString(CultureInfo.InvariantCulture);
        string ns = $"vlm{tag}", tapA = $"vlm{tag}a", tapB = $"vlm{tag}b";
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", $"net_tap0,iface={tapA}=0", "-P", $"net_tap1,iface={tapB}=1",
            "--max-relays", "2", "--eal-args", $"--no-huge -m 1024 --no-pci --file-prefix={Prefixes.Next("relays")} --log-level=lib.vhost.config:warning");
        Process? server = null, source = null;
        var serverLines = new StringBuilder();
        var sourceConsole = new StringBuilder();
        try
        {
            await daemon.WaitForOutputAsync("relay 1: device attached", Patience);
            foreach (string[] step in new[]
            {
                new[] { "netns", "add", ns }, ["link", "set", tapA, "netns", ns], ["link", "set", tapB, "netns", ns],
                ["-n", ns, "link", "add", "br0", "type", "bridge"], ["-n", ns, "link", "set", tapA, "master", "br0"], ["-n", ns, "link", "set", tapB, "master", "br0"],
                ["-n", ns, "addr", "add", "10.64.0.1/24", "dev", "br0"], ["-n", ns, "link", "set", tapA, "up"], ["-n", ns, "link", "set", tapB, "up"],
                ["-n", ns, "link", "set", "br0", "up"],
            })
            {
                (int ipCode, string stdout, string stderr) = await Command.RunAsync(Patience, "ip", step);
                Assert.That(ipCode, Is.Zero, $"ip {string.Join(' ', step)}: {stdout}{stderr}");
            }

            server = Start("ip", ["netns", "exec", ns, "/usr/bin/python3", "-c", Server, "10.64.0.1"], serverLines);
            await Eventually.UntilAsync(() => Task.FromResult(Text(serverLines).Contains("LISTENING", StringComparison.Ordinal)), "the download server", Patience);

            string qmp = dir.File("source.qmp"), incoming = dir.File("migration.sock");
            string[] common = ["run", "--timeout", "170", "--taskset", "0", "--mac", "52:54:00:64:00:02", "--mem", "256"];
            source = Start(QemuGuest.Tool, [.. common, "--sock", dir.File("virtio-forwarder0.sock"), "--ip", "10.64.0.2/24",
                "--qemu-arg", "-qmp", "--qemu-arg", $"unix:{qmp},server=on,wait=off",
                "--cmd", "ping -c 1 -W 5 10.64.0.1",
                "--cmd", "(nc 10.64.0.1 5002 > /tmp/down; echo DOWNLOADED) & echo MIGRATE-NOW",
                "--cmd", "ping -i 0.05 -c 400 -W 1 10.64.0.1 | tail -2",
                "--cmd", "wait; md5sum /tmp/down; wc -c < /tmp/down"], sourceConsole);
            await Eventually.UntilAsync(() => Task.FromResult(Text(sourceConsole).Contains("MIGRATE-NOW", StringComparison.Ordinal) || source.HasExited),
                "the guest to start its traffic", Patience);
            Assert.That(source.HasExited, Is.False, Text(sourceConsole));

            // The destination: the same machine on relay 1's socket, waiting for the guest.
            Task<(int Code, string Stdout, string Stderr)> destination = Command.RunAsync(TimeSpan.FromSeconds(200), QemuGuest.Tool,
                [.. common, "--sock", dir.File("virtio-forwarder1.sock"), "--qemu-arg", "-incoming", "--qemu-arg", $"unix:{incoming}"]);
            await Eventually.UntilAsync(() => Task.FromResult(File.Exists(incoming) || destination.IsCompleted), "the destination to listen", Patience);
            await Task.Delay(TimeSpan.FromSeconds(1)); // a second of traffic before the switch

            using (var monitor = await Qmp.ConnectAsync(qmp))
            {
                await monitor.ExecuteAsync("migrate", new { uri = $"unix:{incoming}" });
                string status = "";
                await Eventually.UntilAsync(async () =>
                {
                    JsonElement state = await monitor.ExecuteAsync("query-migrate");
                    status = state.TryGetProperty("status", out JsonElement s) ? s.GetString()! : "";
                    return status is "completed" or "failed" or "cancelled";
                }, "the migration to finish", Patience);
                Assert.That(status, Is.EqualTo("completed"), Text(sourceConsole));
                await monitor.ExecuteAsync("quit");
            }

            (int code, string console, string errors) = await destination;
            // The guest's commands finish on the destination; everything else follows from them.
            Assert.That(code, Is.Zero, $"the guest's commands on the destination\n{console}\n{errors}\nsource:\n{Text(sourceConsole)}\nrelays:\n{daemon.StandardOutput}\n{daemon.StandardError}");
            Match pings = Pings().Match(console);
            string md5 = Regex.Match(console, @"([0-9a-f]{32})\s+/tmp/down").Groups[1].Value;
            await Eventually.UntilAsync(() => Task.FromResult(Text(serverLines).Contains("SENT", StringComparison.Ordinal) || server.HasExited), "the server's checksum", Patience);
            int sent = pings.Success ? int.Parse(pings.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            int received = pings.Success ? int.Parse(pings.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            JsonElement relayB = await Vioctl.RelayAsync(1);
            TestContext.Out.WriteLine($"pings: {sent} sent, {received} received, {sent - received} lost in the switch-over (50 ms apart)");
            Assert.Multiple(() =>
            {
                Assert.That(pings.Success, Is.True, console);
                Assert.That(received, Is.GreaterThan(sent / 2), "the guest kept working through relay 1");
                Assert.That(sent - received, Is.LessThan(100), "packets are lost in the switch-over window only (under 5 s of 50 ms pings)");
                Assert.That(md5, Is.Not.Empty, console);
                Assert.That(Text(serverLines), Does.Contain($"SENT {md5}"), "the download written into the guest by relay 0 during migration, then relay 1, arrived intact");
                Assert.That(console, Does.Contain($"{24 << 20}"), "all of it");
                Assert.That(daemon.StandardOutput, Does.Contain("relay 0: live migration started (VHOST_F_LOG_ALL set)"));
                Assert.That(daemon.StandardOutput, Does.Contain("relay 1: VM connected"));
                Assert.That(relayB.GetProperty("stats").GetProperty("vfToVm").GetProperty("txPackets").GetUInt64(), Is.GreaterThan(100UL), "relay 1 carries the guest's traffic");
            });

            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
        finally
        {
            foreach (Process? p in new[] { source, server })
            {
                if (p is { HasExited: false })
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }

                p?.Dispose();
            }

            await Command.RunAsync(Patience, "ip", "netns", "del", ns);
        }
    }

    private static Process Start(string program, string[] args, StringBuilder output)
    {
        var info = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(info)!;
        void Append(object? _, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex Pings();

    /// <summary>QEMU's machine protocol over its unix socket: one command at a time.</summary>
    private sealed class Qmp : IDisposable
    {
        private readonly Socket _socket;
        private readonly StreamReader _reader;
        private readonly StreamWriter _writer;

        private Qmp(Socket socket)
        {
            _socket = socket;
            var stream = new NetworkStream(socket, ownsSocket: false);
            _reader = new StreamReader(stream);
            _writer = new StreamWriter(stream) { AutoFlush = true };
        }

        public static async Task<Qmp> ConnectAsync(string path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            var qmp = new Qmp(socket);
            await qmp._reader.ReadLineAsync(); // the greeting
            await qmp.ExecuteAsync("qmp_capabilities");
            return qmp;
        }

        /// <summary>Runs a command and returns its "return" value (events in between are skipped).</summary>
        public async Task<JsonElement> ExecuteAsync(string command, object? arguments = null)
        {
            await _writer.WriteLineAsync(JsonSerializer.Serialize(arguments is null ? new { execute = command } : (object)new { execute = command, arguments }));
            while (true)
            {
                string? line = await _reader.ReadLineAsync();
                if (line is null)
                {
                    return default; // "quit" closes the connection
                }

                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("return", out JsonElement ret))
                {
                    return ret.Clone();
                }

                if (doc.RootElement.TryGetProperty("error", out JsonElement error))
                {
                    throw new InvalidOperationException($"QMP {command}: {error}");
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _writer.Dispose();
            _socket.Dispose();
        }
    }
}
