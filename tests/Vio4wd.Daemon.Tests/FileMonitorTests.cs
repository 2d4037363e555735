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

            // A huge (sparse) file: refused from its size, never read, no allocation of 3 GB.
            using (FileStream huge = File.Create(dir.File("staging")))
            {
                huge.SetLength(3L << 30);
            }

            File.Move(dir.File("staging"), commands);
            await daemon.WaitForOutputAsync($"the command file has {3L << 30} bytes", Patience);
            Assert.That(File.Exists(commands), Is.False, "a root-owned regular file is consumed even when refused");

            // Objects a local user can plant in /tmp: refused once each, not followed, not removed, no block.
            (string Name, Action Plant, string Reason)[] planted =
            [
                ("FIFO", () => Run("mkfifo", commands), "it is not a regular file"),
                ("symbolic link", () => File.CreateSymbolicLink(commands, Written(dir, "elsewhere", "del_port eth5\n")), "it is a symbolic link"),
                // Owner and mode set before the file appears at the command path.
                ("another user's file", () => { Run("chown", "65534", Written(dir, "staging", "del_port eth5\n")); File.Move(dir.File("staging"), commands); },
                    "it is owned by uid 65534, not by root or the daemon's user"),
                ("world-writable file", () => { File.SetUnixFileMode(Written(dir, "staging", "del_port eth5\n"), (UnixFileMode)0b110_110_110); File.Move(dir.File("staging"), commands); },
                    "every user may write it"),
            ];
            foreach ((string name, Action plant, string reason) in planted)
            {
                plant();
                await daemon.WaitForOutputAsync($"{commands}: refused: {reason}", Patience);
                Assert.That(Path.Exists(commands), Is.True, $"{name}: not ours to remove");
                File.Delete(commands);
            }

            string refusals = daemon.StandardOutput[mark..];
            Assert.Multiple(() =>
            {
                Assert.That(refusals.Split('\n').Count(l => l.Contains("it is not a regular file", StringComparison.Ordinal)), Is.EqualTo(1), "said once, not at every poll");
                Assert.That(refusals, Does.Not.Contain("relay 3:"));
            });
            Assert.That((await control.RelayAsync(3))?.Device, Is.EqualTo("net_null3"), "nothing changed");

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

    private static string Written(TempDirectory dir, string name, string content)
    {
        File.WriteAllText(dir.File(name), content);
        return dir.File(name);
    }

    private static void Run(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(program, args);
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"{program} {string.Join(' ', args)}");
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
