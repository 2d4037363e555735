using System.Diagnostics;

namespace Vio4wd.Daemon.Tests;

/// <summary><c>make demo</c>'s script, as a user runs it: it must finish, ping across the relay and leave nothing behind.</summary>
[NonParallelizable]
public class DemoTests
{
    [Test]
    public async Task The_demo_pings_across_the_relay_and_cleans_up()
    {
        var info = new ProcessStartInfo(Path.Combine(DaemonProcess.RepoRoot, "demo", "demo.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var demo = Process.Start(info)!;
        Task<string> stdout = demo.StandardOutput.ReadToEndAsync();
        Task<string> stderr = demo.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await demo.WaitForExitAsync(timeout.Token);
        string output = await stdout;
        using var netns = Process.Start(new ProcessStartInfo("ip", ["netns", "list"]) { RedirectStandardOutput = true })!;
        string namespaces = await netns.StandardOutput.ReadToEndAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(demo.ExitCode, Is.Zero, $"{output}\n{await stderr}");
            Assert.That(output, Does.Contain("relay 0 ready").And.Contain(" 0% packet loss").And.Contain("The demo worked"));
            Assert.That(output, Does.Contain("virtio_forwarder_state=ready"), "the row tells the operator");
            Assert.That(namespaces, Does.Not.Contain("vio4wd-"), "its network namespaces are gone");
            Assert.That(Directory.GetDirectories("/tmp", "vio4wd-demo.*"), Is.Empty, "its work directory is gone");
        });
    }
}
