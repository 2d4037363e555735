using Vio4wd.Testing;
using System.Diagnostics;

namespace Vio4wd.Daemon.Tests;

/// <summary>Runs out/bin/virtio-forwarder as a child process and always reaps it.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private DaemonProcess(Process process)
    {
        _process = process;
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Launcher => Path.Combine(RepoRoot, "out", "bin", "virtio-forwarder");

    /// <summary>Where test daemons keep their PID file unless a test says otherwise.</summary>
    public static string PidDirectory { get; } = Path.Combine(Path.GetTempPath(), $"vio4wd-pid-{Environment.ProcessId}");

    public static string ControlSocket => Path.Combine(PidDirectory, "control.sock");

    public static string CtlLauncher => Path.Combine(RepoRoot, "out", "bin", "vio4wdctl");

    public int Id => _process.Id;

    public string StandardOutput { get { lock (_stdout) { return string.Join('\n', _stdout); } } }

    public string StandardError { get { lock (_stderr) { return string.Join('\n', _stderr); } } }

    public static DaemonProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the daemon with extra environment variables.</summary>
    public static DaemonProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot,
        };
        return Launch(info, environment, args);
    }

    private static DaemonProcess Launch(ProcessStartInfo info, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        // A daemon a test kills with SIGKILL would leave the runtime's diagnostic socket and pipes in /tmp.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Daemons under test keep their PID file and control socket away from real ones.
        if (args.Any(a => a is "-n" || a.StartsWith("--nodaemon", StringComparison.Ordinal)))
        {
            if (!args.Any(a => a is "-p" or "--pid-path"))
            {
                info.ArgumentList.Add("--pid-path");
                info.ArgumentList.Add(PidDirectory);
            }

            if (!args.Contains("--control-sock"))
            {
                info.ArgumentList.Add("--control-sock");
                info.ArgumentList.Add(ControlSocket);
            }

            // No state file unless a test asks for one: a test's relays must not come back in the next test's daemon.
            if (!args.Any(a => a.StartsWith("--state-dir", StringComparison.Ordinal)))
            {
                info.ArgumentList.Add("--state-dir=");
            }
        }

        var daemon = new DaemonProcess(Process.Start(info)!);
        daemon._process.OutputDataReceived += (_, e) => Append(daemon._stdout, e.Data);
        daemon._process.ErrorDataReceived += (_, e) => Append(daemon._stderr, e.Data);
        daemon._process.BeginOutputReadLine();
        daemon._process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Runs to completion and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using DaemonProcess daemon = Start(args);
        int exitCode = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, daemon.StandardOutput, daemon.StandardError);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Eventually.UntilAsync(() => StandardOutput.Contains(text, StringComparison.Ordinal) || _process.HasExited, $"'{text}' from the daemon", timeout);
        Assert.That(StandardOutput, Does.Contain(text), $"daemon did not print '{text}'.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();

            // A killed daemon cannot remove its control socket; the next test would find it.
            File.Delete(ControlSocket);
        }

        _process.Dispose();
    }

    private static void Append(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    private static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Vio4wd.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Vio4wd.sln not found above the test directory");
    }
}
