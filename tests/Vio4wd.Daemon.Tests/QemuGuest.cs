using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>tools/qemu-guest.sh: a real Linux guest on a vhost-user socket (see tools/qemu-guest.md).</summary>
internal static class QemuGuest
{
    public static string Tool { get; } = Path.Combine(DaemonProcess.RepoRoot, "tools", "qemu-guest.sh");

    /// <summary>Builds the guest image; idempotent, a couple of seconds when the cached one is up to date.</summary>
    public static async Task BuildAsync()
    {
        (int code, string stdout, string stderr) = await Command.RunAsync(TimeSpan.FromMinutes(10), Tool, "build");
        Assert.That(code, Is.Zero, stdout + stderr);
    }

    /// <summary>Boots a guest (<c>qemu-guest.sh run ARGS</c>); returns the guest commands' status and the console.</summary>
    public static async Task<(int Code, string Console)> RunAsync(TimeSpan timeout, params string[] args)
    {
        (int code, string stdout, string stderr) = await Command.RunAsync(timeout, Tool, ["run", .. args]);
        return (code, stdout + stderr);
    }
}
