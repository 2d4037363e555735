using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The file monitor (--ipc): commands written to the command file, a netdev resolved through a
/// fake sysfs tree (eth5 is representor pf0vf3 of a PF whose virtfn3 is 0000:05:00.4), that
/// address standing for net_null3 (test hooks), since this machine has no VFs.
/// </summary>
[NonParallelizable]
public class FileMonitorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Add_port_and_del_port_change_the_relay_and_anything_else_is_refused_with_a_log_line()
    {
        using var dir = new TempDirectory();
        string sysfs = FakeSysfs(dir);
        string commands = dir.File("vio_cmd");
        string prefix = $"vio4wd-daemon-filemon-{Environment.ProcessId}";
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(
                new Dictionary<string, string>
                {
                    ["VIO4WD_TEST_HOOKS"] = "1", ["VIO4WD_TEST_SYSFS_ROOT"] = sysfs, ["VIO4WD_TEST_PCI_ALIASES"] = "0000:05:00.4=net_null3",
                },
                "-C", "1", "--nodaemon", "--ipc", "--ipc-file", commands, "-V", dir.File("sockets"),
                "--eal-args", $"--no-huge -m 512 --no-pci --file-prefix={prefix}");
            await daemon.WaitForOutputAsync("Forwarding", Patience);
            using ControlClient control = await ControlClient.ConnectAsync();

            await WriteAsync(dir, commands, "add_port eth5\n"u8.ToArray());
            await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Device == "net_null3", "add_port eth5: relay 3", Patience);
            Assert.That((await control.RelayAsync(3))?.Source, Is.EqualTo("file"));
            int mark = daemon.StandardOutput.Length;

            (string Name, byte[] Content, string Reason)[] bad =
            [
                ("apple", "apple\n"u8.ToArray(), "'apple' is not a command"),
                ("delete", "delete eth5\n"u8.ToArray(), "'delete eth5' is not a command"),
                ("empty", [], "the command file is empty"),
                ("1 MB", new byte[1024 * 1024], "the command file has 1048576 bytes"),
                ("unknown netdev", "add_port eth9\n"u8.ToArray(), "add_port eth9: no network interface eth9"),
            ];
            foreach ((string name, byte[] content, string reason) in bad)
            {
                await WriteAsync(dir, commands, content);
                await daemon.WaitForOutputAsync(reason, Patience);
                Assert.That(File.Exists(commands), Is.False, $"{name}: the file is consumed");
            }

            string refusals = daemon.StandardOutput[mark..];
            Assert.That((await control.RelayAsync(3))?.Device, Is.EqualTo("net_null3"), "nothing changed");
            Assert.That(refusals, Does.Not.Contain("relay 3:"));

            await WriteAsync(dir, commands, "del_port eth5"u8.ToArray());
            await Eventually.UntilAsync(async () => (await control.RelayAsync(3))?.Device is null, "del_port eth5", Patience);
            daemon.Signal("TERM");
            Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
        }
        finally
        {
            DpdkRuntime.Remove(prefix);
        }
    }

    // Written aside and renamed, so the daemon never reads half a command.
    private static async Task WriteAsync(TempDirectory dir, string path, byte[] content)
    {
        string staging = dir.File("staging");
        await File.WriteAllBytesAsync(staging, content);
        File.Move(staging, path, overwrite: true);
    }

    private static string FakeSysfs(TempDirectory dir)
    {
        string root = dir.File("sys");
        string pf = Directory.CreateDirectory(Path.Combine(root, "devices/pci0000:00/0000:05:00.0")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "devices/pci0000:00/0000:05:00.4"));
        File.CreateSymbolicLink(Path.Combine(pf, "virtfn3"), "../0000:05:00.4");
        string netdev = Directory.CreateDirectory(Path.Combine(root, "class/net/eth5")).FullName;
        File.WriteAllText(Path.Combine(netdev, "phys_port_name"), "pf0vf3\n");
        Directory.CreateSymbolicLink(Path.Combine(netdev, "device"), pf);
        return root;
    }
}
