using Vio4wd.Core.Dataplane;
using Vio4wd.Testing;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// The one EAL of this test assembly (the EAL can be initialised once per process; dotnet test
/// runs each assembly in its own process), with lcore 0 as main and lcores 1 and 2 as workers
/// (lcore 2 shares CPU 0 with the main lcore: this machine kind has two CPUs), and a dataplane on it that tests may
/// restart with other options.
/// </summary>
[SetUpFixture]
public sealed class DataplaneFixture
{
    public static readonly string Prefix = $"vio4wd-test-{Environment.ProcessId}";

    private static EalSession? s_eal;
    private static NativeDataplane? s_dataplane;

    public static EalSession Eal => s_eal ?? throw new InvalidOperationException("the EAL is not running");

    public static NativeDataplane Dataplane => s_dataplane ?? throw new InvalidOperationException("the dataplane is not running");

    public static IReadOnlyList<int> Workers { get; } = [1, 2];

    public static string RuntimeDirectory => DpdkRuntime.DirectoryOf(Prefix);

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        s_eal = await EalSession.StartAsync(
            ["--no-huge", "-m", "1024", "--no-pci", "--lcores=0@0,1@1,2@0", $"--file-prefix={Prefix}",
             "--log-level=lib.eal:warning", "--log-level=lib.vhost.config:warning"]);
        s_dataplane = await NativeDataplane.StartAsync(s_eal, new DataplaneOptions(MbufsPerRelay: 2047));
    }

    /// <summary>Stops the dataplane and starts it again with other options (the EAL stays).</summary>
    public static async Task RestartAsync(DataplaneOptions options)
    {
        if (s_dataplane is not null)
        {
            await s_dataplane.DisposeAsync();
            s_dataplane = null;
        }

        s_dataplane = await NativeDataplane.StartAsync(Eal, options);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        try
        {
            if (s_dataplane is not null)
            {
                await s_dataplane.DisposeAsync();
            }

            if (s_eal is not null)
            {
                await s_eal.DisposeAsync();
            }
        }
        finally
        {
            DpdkRuntime.Remove(Prefix);
        }
    }
}
