using System.Diagnostics;

namespace Vio4wd.Testing;

/// <summary>A program run to its end, its output kept: for the tools tests drive (ovs-vsctl, qemu-guest.sh, ...).</summary>
public static class Command
{
    /// <summary>Runs <paramref name="program"/>; its exit code and its stdout and stderr. Killed (with its children) after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {timeout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
