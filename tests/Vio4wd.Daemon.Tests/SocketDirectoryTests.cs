using System.Diagnostics;
using System.Net.Sockets;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// The vhost-user socket directory (issue 12, finding 2): whoever can write it can serve a
/// client-mode relay's socket and receive its VF's traffic, or swap a server-mode one. The
/// daemon creates it for root and the socket owner only, and refuses one others can write.
/// </summary>
[NonParallelizable]
public class SocketDirectoryTests() : DaemonTest("sockdir")
{
    private static string Stat(string path)
    {
        using Process stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%F %U:%G %a", path]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return text;
    }

    private static void Chown(string path, string owner)
    {
        using Process chown = Process.Start("chown", [owner, path])!;
        chown.WaitForExit();
        Assert.That(chown.ExitCode, Is.Zero, $"chown {owner} {path}");
    }

    [Test]
    public async Task A_missing_directory_is_created_for_the_socket_owner_and_group_and_sockets_get_0660_whatever_the_umask()
    {
        using var dir = new TempDirectory();
        string sockets = dir.File("run/vio");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets, "--vhost-username=nobody", "--vhost-groupname=nogroup",
            "-P", "net_null0=0", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("create")}");
        string socket = Path.Combine(sockets, "virtio-forwarder0.sock");
        // The file appears at bind(); its owner and mode are set once the socket is started.
        await daemon.WaitForOutputAsync("relay 0: Reconciled", Patience);
        Assert.Multiple(() =>
        {
            Assert.That(Stat(sockets), Is.EqualTo("directory nobody:nogroup 750"));
            Assert.That(Stat(socket), Is.EqualTo("socket nobody:nogroup 660"), "the socket's mode is the daemon's, not umask 022's 755");
        });
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    // A directory made by someone trusted (a hostPath volume, an admin) is given to the socket owner
    // and group as the original's pre-start did, its mode kept.
    [Test]
    public async Task An_existing_root_directory_is_given_to_the_socket_owner_and_group()
    {
        using var dir = new TempDirectory();
        string sockets = dir.File("sockets");
        Directory.CreateDirectory(sockets);
        File.SetUnixFileMode(sockets, (UnixFileMode)Convert.ToInt32("755", 8));
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets, "--vhost-username=nobody", "--vhost-groupname=nogroup",
            "--dynamic-sockets", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("chown")}");
        await daemon.WaitForOutputAsync("Forwarding", Patience);
        Assert.That(Stat(sockets), Is.EqualTo("directory nobody:nogroup 755"));
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    [TestCase("777", "root", "mode 0777")]
    [TestCase("1777", "root", "mode 1777")]
    [TestCase("770", "root:nogroup", "group gid 65534, mode 0770")]
    [TestCase("755", "nobody", "owner uid 65534")]
    public async Task An_existing_directory_others_can_write_is_refused_before_dpdk_starts(string mode, string owner, string named)
    {
        using var dir = new TempDirectory();
        string sockets = dir.File("sockets");
        Directory.CreateDirectory(sockets);
        File.SetUnixFileMode(sockets, (UnixFileMode)Convert.ToInt32(mode, 8));
        Chown(sockets, owner);
        string prefix = Prefix("refuse");
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-V", sockets, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={prefix}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain($"socket directory: {sockets} (").And.Contain(named).And.Contain("refusing to use it"));
            Assert.That(Directory.Exists(DpdkRuntime.DirectoryOf(prefix)), Is.False, "DPDK never started");
            Assert.That(Directory.EnumerateFileSystemEntries(sockets), Is.Empty, "no socket was made there");
        });
    }

    [Test]
    public async Task A_symbolic_link_in_place_of_the_directory_is_refused_and_its_target_untouched()
    {
        using var dir = new TempDirectory();
        string target = dir.File("elsewhere");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("700", 8));
        string sockets = dir.File("sockets");
        Directory.CreateSymbolicLink(sockets, target);
        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-V", sockets, "--vhost-username=nobody", "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("link")}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain($"socket directory: {sockets} is a symbolic link; refusing to follow it"));
            Assert.That(Stat(target), Is.EqualTo("directory root:root 700"), "the link's target is not given away");
            Assert.That(Directory.EnumerateFileSystemEntries(target), Is.Empty);
        });
    }

    [TestCase("link", TestName = "A listed socket directory that is a symbolic link stops the start and its target is untouched")]
    [TestCase("others", TestName = "A listed socket directory others may write stops the start and is not changed")]
    public async Task A_listed_socket_directory_that_is_not_safe_stops_the_start_naming_the_setting(string how)
    {
        using var dir = new TempDirectory();
        string target = dir.File("elsewhere");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32(how == "link" ? "700" : "777", 8));
        string listed = how == "link" ? dir.File("openvswitch") : target;
        if (how == "link")
        {
            Directory.CreateSymbolicLink(listed, target);
        }

        (int code, _, string stderr) = await DaemonProcess.RunAsync("-C", "1", "--nodaemon", "-V", dir.File("sockets"), "--extra-socket-dir", listed,
            "--vhost-username=nobody", "--dynamic-sockets", "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix(how)}");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain($"VIRTIOFWD_VHOST_SOCKET_DIRS: {listed}"));
            Assert.That(Stat(target), Is.EqualTo(how == "link" ? "directory root:root 700" : "directory root:root 777"), "not given away, not changed");
        });
    }

    [Test]
    public async Task Qemu_as_libvirt_qemu_and_kvm_reaches_a_server_mode_socket_with_the_default_owner_and_group()
    {
        // Debian's libvirt runs QEMU as libvirt-qemu:kvm; the accounts are made here when this host lacks them.
        using var account = await SystemAccount.EnsureAsync("libvirt-qemu", "kvm");
        using var dir = new TempDirectory();
        // QEMU must reach the socket directory through its parents, as through /tmp or /run.
        File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        string sockets = dir.File("sockets");
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets, "-P", "net_null0=0",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("qemu-user")}");
        await daemon.WaitForOutputAsync("relay 0: Reconciled", Patience);
        Assert.That(Stat(sockets), Is.EqualTo("directory libvirt-qemu:kvm 750"));
        await using var vm = Testpmd.Start([$"net_virtio_user0,path={Path.Combine(sockets, "virtio-forwarder0.sock")}"],
            ["--forward-mode=io", "--nb-cores=1", "--auto-start"], runAs: $"{account.Uid}:{account.Gid}");
        await Eventually.UntilAsync(() => daemon.StandardOutput.Contains("relay 0: VM connected", StringComparison.Ordinal) || vm.HasExited,
            "the VM as libvirt-qemu on relay 0", Patience);
        Assert.That(daemon.StandardOutput, Does.Contain("relay 0: VM connected"), vm.Output);
        Assert.That(Stat(Path.Combine(sockets, "virtio-forwarder0.sock")), Is.EqualTo("socket libvirt-qemu:kvm 660"));
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }

    /// <summary>A system user and group, made for a test when missing and removed after it.</summary>
    private sealed class SystemAccount(int uid, int gid, bool madeUser, bool madeGroup, string user, string group) : IDisposable
    {
        public int Uid { get; } = uid;

        public int Gid { get; } = gid;

        public static async Task<SystemAccount> EnsureAsync(string user, string group)
        {
            bool madeGroup = await RunAsync("getent", "group", group) == string.Empty;
            if (madeGroup)
            {
                await RunAsync("groupadd", "--system", group);
            }

            bool madeUser = await RunAsync("getent", "passwd", user) == string.Empty;
            if (madeUser)
            {
                await RunAsync("useradd", "--system", "--no-create-home", "--gid", group, "--shell", "/usr/sbin/nologin", user);
            }

            int uid = int.Parse(await RunAsync("id", "-u", user), System.Globalization.CultureInfo.InvariantCulture);
            int gid = int.Parse((await RunAsync("getent", "group", group)).Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
            return new SystemAccount(uid, gid, madeUser, madeGroup, user, group);
        }

        public void Dispose()
        {
            if (madeUser)
            {
                RunAsync("userdel", user).GetAwaiter().GetResult();
            }

            if (madeGroup)
            {
                RunAsync("groupdel", group).GetAwaiter().GetResult();
            }
        }

        private static async Task<string> RunAsync(string program, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return output.Trim();
        }
    }

    [Test]
    public async Task A_socket_another_process_listens_on_is_never_unlinked_and_other_relays_come_up()
    {
        using var dir = new TempDirectory();
        string sockets = dir.File("sockets");
        Directory.CreateDirectory(sockets);
        string taken = Path.Combine(sockets, "virtio-forwarder0.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(taken));
        listener.Listen();
        using DaemonProcess daemon = DaemonProcess.Start("-C", "1", "--nodaemon", "-V", sockets, "-P", "net_null0=0", "-P", "net_null1=1",
            "--eal-args", $"--no-huge -m 256 --no-pci --file-prefix={Prefix("live")}");
        string other = Path.Combine(sockets, "virtio-forwarder1.sock");
        await Eventually.UntilAsync(() => File.Exists(other), "relay 1's socket", Patience);
        await daemon.WaitForOutputAsync($"'{taken}' is a socket another process listens on; leaving it alone", Patience);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(taken));
        using Socket accepted = await listener.AcceptAsync();
        Assert.That(accepted.Connected, Is.True, "the listener still owns its socket");
        daemon.Signal("TERM");
        Assert.That(await daemon.WaitForExitAsync(Patience), Is.Zero, daemon.StandardError);
    }
}
