using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// A real Linux guest (tools/qemu-guest.sh: QEMU, Debian's kernel, its virtio_net driver) on a
/// relay's socket, for what only a real guest negotiates (issue 12, findings 7 and 8).
/// </summary>
[NonParallelizable]
public class RealGuestTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static readonly string Tool = Path.Combine(DaemonProcess.RepoRoot, "tools", "qemu-guest.sh");
    private readonly DpdkPrefixes _prefixes = new("realguest");

    [OneTimeSetUp]
    public static async Task BuildGuestImage()
    {
        // Idempotent: a couple of seconds when the cached image is up to date.
        (int code, string output) = await RunAsync(TimeSpan.FromMinutes(10), Tool, "build");
        Assert.That(code, Is.Zero, output);
    }

    [TearDown]
    public void RemoveRuntimeFolders() => _prefixes.RemoveAll();

    private string Prefix(string name) => _prefixes.Next(name);

    private static async Task<(int Code, string Output)> RunAsync(TimeSpan timeout, string program, params string[] args)
    {
        (int code, string stdout, string stderr) = await Command.RunAsync(timeout, program, args);
        return (code, stdout + stderr);
    }

    /// <summary>Boots the guest on <paramref name="socket"/>; returns the tool's exit code and the console.</summary>
    private static Task<(int Code, string Output)> BootAsync(string socket, int queues) =>
        RunAsync(Patience, Tool, "run", "--sock", socket, "--queues", queues.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mem", queues > 8 ? "1536" : "256", "--timeout", "100", "--cmd", "true");

    private static string[] Features(string console) =>
        console.Split('\n').FirstOrDefault(l => l.StartsWith("QG-FEATURES", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..] ?? [];

    [Test]
    public async Task A_real_guest_negotiates_no_offload_it_could_send_to_the_vf_and_one_with_33_queue_pairs_is_refused_once()
    {
        using var dir = new TempDirectory();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", dir.Path, "-P", "net_null0=0", "-P", "net_null1=1",
            "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={Prefix("real")} --log-level=lib.vhost.config:warning");
        await daemon.WaitForOutputAsync("Forwarding", Patience);

        (int code, string console) = await BootAsync(dir.File("virtio-forwarder0.sock"), queues: 1);
        string[] features = Features(console);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, console);
            Assert.That(features, Does.Contain("VERSION_1"), "the guest's negotiated features were read");
            Assert.That(features, Has.None.AnyOf("CSUM", "HOST_TSO4", "HOST_TSO6", "HOST_UFO", "HOST_ECN"), string.Join(' ', features));
            Assert.That(daemon.StandardOutput, Does.Contain("relay 0: VM connected"));
        });

        // 33 queue pairs: Debian's kernel enables them after the device runs (no F_STATUS wait).
        (int wide, string wideConsole) = await BootAsync(dir.File("virtio-forwarder1.sock"), queues: 33);
        const string Refusal = "relay 1: refusing VM connection";
        await Eventually.UntilAsync(() => daemon.StandardError.Contains(Refusal, StringComparison.Ordinal), "the refusal", Patience);
        string log = daemon.StandardError;
        Assert.Multiple(async () =>
        {
            Assert.That(wide, Is.Zero, wideConsole);
            Assert.That(log, Does.Contain($"{Refusal} (vid").And.Contain("more than 32 queue pairs"));
            Assert.That(log.Split(Refusal).Length - 1, Is.EqualTo(1), "one line for the connection");
            Assert.That(daemon.StandardOutput, Does.Not.Contain("relay 1: VM connected"), "never served in part");
            Assert.That((await Vioctl.RelayAsync(1)).GetProperty("stats").GetProperty("vmToVf").GetProperty("rxPackets").GetUInt64(), Is.Zero);
        });

        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }
}
