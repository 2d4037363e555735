using Vio4wd.Testing;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using StreamJsonRpc;

namespace Vio4wd.Daemon.Tests;

/// <summary>Runs the built vio4wdctl against the daemon under test, as an operator would.</summary>
internal static class Vioctl
{
    public static Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        RunAsync(DaemonProcess.CtlLauncher, args);

    /// <summary>Runs vio4wdctl as another (unprivileged) user.</summary>
    /// <remarks>
    /// From a copy of the built CLI that every user can read: the checkout itself may sit in a
    /// directory only root can enter (a clone in a `mktemp -d` directory, say).
    /// </remarks>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsUserAsync(string user, params string[] args)
    {
        using var copy = new TempDirectory();
        File.SetUnixFileMode(copy.Path, (UnixFileMode)0b111_101_101);
        string built = Path.Combine(DaemonProcess.RepoRoot, "src", "Vio4wd.Ctl", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0");
        foreach (string file in Directory.EnumerateFiles(built, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy.Path, Path.GetRelativePath(built, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        foreach (string dir in Directory.EnumerateDirectories(copy.Path, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }

        return await RunAsync("runuser", ["-u", user, "--", "dotnet", Path.Combine(copy.Path, "vio4wdctl.dll"), .. args]);
    }

    /// <summary>Runs vio4wdctl without $VIO4WD_CONTROL_SOCK: it finds the socket from its options or the config file.</summary>
    public static Task<(int Code, string Stdout, string Stderr)> RunUnpointedAsync(params string[] args) =>
        RunAsync(DaemonProcess.CtlLauncher, args, pointed: false);

    /// <summary>Starts a long-running vio4wdctl (status --watch, top); its stdout lines arrive in <paramref name="lines"/>.</summary>
    public static Process Start(List<string> lines, params string[] args)
    {
        var info = new ProcessStartInfo(DaemonProcess.CtlLauncher) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["VIO4WD_CONTROL_SOCK"] = DaemonProcess.ControlSocket;
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (lines)
                {
                    lines.Add(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string[] args, bool pointed = true)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (pointed)
        {
            info.Environment["VIO4WD_CONTROL_SOCK"] = DaemonProcess.ControlSocket;
        }
        else
        {
            info.Environment.Remove("VIO4WD_CONTROL_SOCK");
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a command with <c>-o json</c> and parses its output; fails the test if it fails.</summary>
    public static async Task<JsonElement> JsonAsync(params string[] args)
    {
        (int code, string stdout, string stderr) = await RunAsync([.. args, "-o", "json"]);
        Assert.That(code, Is.Zero, $"vio4wdctl {string.Join(' ', args)}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    public static async Task<JsonElement> RelayAsync(int id) =>
        (await JsonAsync("status")).EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == id);

    public static string Condition(JsonElement relay, string type) =>
        relay.GetProperty("conditions").EnumerateArray().Single(c => c.GetProperty("type").GetString() == type).GetProperty("status").GetString()!;

    /// <summary>Calls one of the daemon's test hooks (VIO4WD_TEST_HOOKS=1) over the control socket.</summary>
    public static async Task HookAsync(string method, params object[] arguments)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(DaemonProcess.ControlSocket));
        using var rpc = JsonRpc.Attach(new NetworkStream(socket, ownsSocket: false));
        await rpc.InvokeAsync(method, arguments);
    }
}
