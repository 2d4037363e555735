using System.Diagnostics;
using Vio4wd.Testing;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// Runs interop/tests/relay_selftest.c: one relay carries traffic while another is attached,
/// detached, registered and unregistered over and over; nothing may be lost, mempools and
/// mbufs must return to their baseline. Once as built, once under AddressSanitizer.
/// </summary>
[TestFixture]
[NonParallelizable]
public class NativeSelftestTests
{
    [Test]
    public void Hundred_attach_detach_and_socket_cycles_disturb_no_other_relay_and_leak_nothing()
    {
        (int exit, string output) = RunSelftest("native", cycles: 100);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("OK: 100 cycles"));
    }

    [Test]
    public void The_engine_is_clean_under_address_sanitizer()
    {
        (int exit, string output) = RunSelftest("native-asan", cycles: 20);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Not.Contain("ERROR: AddressSanitizer"));
            Assert.That(output, Does.Not.Contain("ERROR: LeakSanitizer"));
            Assert.That(exit, Is.Zero, output);
            Assert.That(output, Does.Contain("OK: 20 cycles"));
        });
    }

    private static (int Exit, string Output) RunSelftest(string flavour, int cycles)
    {
        string binary = Path.Combine(TestPaths.RepositoryRoot, "out", flavour, "relay_selftest");
        Assert.That(File.Exists(binary), Is.True, $"{binary} is built by 'make build'");
        using var dir = new TempDirectory();
        string prefix = $"vio4wd-selftest-{Environment.ProcessId}-{flavour}";
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(prefix);
        info.ArgumentList.Add(dir.Path);
        info.ArgumentList.Add(cycles.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0";
        using var process = Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill();
                Assert.Fail($"relay_selftest ({flavour}) did not finish in 5 minutes");
            }

            string errors = string.Join('\n', stderr.Result.Split('\n')
                .Where(l => !l.StartsWith("EAL:", StringComparison.Ordinal) && !l.Contains("VHOST_CONFIG", StringComparison.Ordinal)));
            return (process.ExitCode, stdout.Result + errors);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            DpdkRuntime.Remove(prefix);
        }
    }
}
