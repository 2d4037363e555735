using Vio4wd.Testing;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Tests;

/// <summary>The real DPDK EAL, initialised through the C# binding without hugepages (see <see cref="DataplaneFixture"/>).</summary>
[TestFixture]
[NonParallelizable]
public class EalSessionTests
{
    private static EalSession Eal => DataplaneFixture.Eal;

    private static string RuntimeDirectory => DataplaneFixture.RuntimeDirectory;

    [Test]
    public void Reports_the_dpdk_version_and_the_relay_limit_of_this_build()
    {
        Assert.Multiple(() =>
        {
            Assert.That(EalSession.IsRunning, Is.True);
            Assert.That(EalSession.DpdkVersion, Does.Match(@"^DPDK \d+\.\d+"));
            Assert.That(EalSession.DpdkVersion, Is.EqualTo($"DPDK {DpdkBuildFacts.PkgConfigVersion}"));
            Assert.That(EalSession.MaxRelays, Is.EqualTo(DpdkBuildFacts.MaxEthports));
            Assert.That(EalSession.MaxRelays, Is.GreaterThanOrEqualTo(DpdkBuildFacts.IsDebiansOwn ? 32 : 512),
                "our DPDK is built for 256 relays with bonds; Debian's own has 32 ports");
            Assert.That(Eal.MainLcore, Is.Zero);
            Assert.That(Directory.Exists(RuntimeDirectory), Is.True, "the EAL runs under its own --file-prefix");
        });
    }

    [Test]
    public async Task A_second_initialisation_in_the_same_process_fails_with_a_clear_error()
    {
        DataplaneException e = (await Assert.ThrowsAsync<DataplaneException>(async () => await EalSession.StartAsync(["--no-huge", "--no-pci"])))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Is.EqualTo("DPDK EAL initialisation failed: the DPDK EAL is already initialised in this process (it can be initialised once per process)"));
            Assert.That(e.ErrorNumber, Is.EqualTo(114)); // EALREADY
            Assert.That(EalSession.IsRunning, Is.True, "the running EAL is untouched");
        });
    }
}
