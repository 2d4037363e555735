using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Vio4wd.Daemon.Tests;

/// <summary>The built vio4wd-core-scheduler, its stdout and stderr kept; killed on dispose if still running.</summary>
internal sealed class SchedulerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SchedulerProcess(Process process) => _process = process;

    public static string Launcher => Path.Combine(DaemonProcess.RepoRoot, "out", "bin", "vio4wd-core-scheduler");

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static SchedulerProcess Start(params string[] args)
    {
        var process = new Process { StartInfo = new ProcessStartInfo(Launcher, args) { RedirectStandardOutput = true, RedirectStandardError = true } };
        process.StartInfo.Environment["DOTNET_EnableDiagnostics"] = "0";
        var scheduler = new SchedulerProcess(process);
        process.OutputDataReceived += (_, e) => scheduler.Append(e.Data);
        process.ErrorDataReceived += (_, e) => scheduler.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return scheduler;
    }

    /// <summary>Stops it with SIGTERM, as systemd does; its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan patience)
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.Append(line).Append('\n');
        }
    }
}
