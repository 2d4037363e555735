using Vio4wd.Configuration;
using Vio4wd.Dataplane;
using Vio4wd.Contracts;

namespace Vio4wd.Dataplane.Tests;

public class EalArgumentsBuilderTests
{
    private static readonly NumaTopology TwoNodes = new(new Dictionary<int, int> { [0] = 0, [1] = 0, [2] = 1, [3] = 1 }, 2);

    private static string Build(VirtioForwarderOptions options) => string.Join(' ', EalArgumentsBuilder.Build(options, TwoNodes));

    [Test]
    public void Derives_cpus_memory_and_hugepages_as_the_original()
    {
        var options = new VirtioForwarderOptions { WorkerCpus = new CpuSet([1, 2]) };
        Assert.That(Build(options), Is.EqualTo(
            "--main-lcore 0 -l 0,1,2 --log-level 7 -n 4 --log-level lib.vhost.config:notice --file-prefix virtio-forwarder_ " +
            "--huge-dir /mnt/huge --huge-unlink --socket-mem 768,768 -a ffff:ff:ff.f"));
    }

    [Test]
    public void Vhost_connection_chatter_is_kept_for_debug_logging_only()
    {
        var info = new VirtioForwarderOptions { WorkerCpus = new CpuSet([1]), LogLevel = 6 };
        var debug = info with { LogLevel = 7 };
        Assert.Multiple(() =>
        {
            Assert.That(Build(info), Does.Contain("--log-level lib.vhost.config:notice"));
            Assert.That(Build(debug), Does.Contain("--log-level 8").And.Not.Contain("lib.vhost.config"));
        });
    }

    [Test]
    public void Jumbo_reserves_more_memory_and_same_numa_none_on_nodes_without_workers()
    {
        var options = new VirtioForwarderOptions { WorkerCpus = new CpuSet([2, 3]), Jumbo = true, SameNuma = true, MainLcore = 0 };
        Assert.That(Build(options), Does.Contain("--socket-mem 0,2750"));
    }

    [Test]
    public void Extra_arguments_take_precedence_over_derived_ones()
    {
        var options = new VirtioForwarderOptions
        {
            WorkerCpus = new CpuSet([1]),
            ExtraEalArguments = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix=t1"],
            VfioVfToken = VirtioForwarderOptions.DefaultVfioVfToken,
        };
        Assert.That(Build(options), Is.EqualTo(
            "--main-lcore 0 -l 0,1 --log-level 7 -n 4 --log-level lib.vhost.config:notice --vfio-vf-token 14d63f20-8445-11ea-8900-1f9ce7d5650d " +
            "--no-huge -m 512 --no-pci --file-prefix=t1"));
    }

    [Test]
    public void Cpus_above_63_are_passed_as_an_lcore_list()
    {
        var options = new VirtioForwarderOptions { WorkerCpus = new CpuSet([64, 100]), MainLcore = 3 };
        Assert.That(Build(options), Does.StartWith("--main-lcore 3 -l 3,64,100 "));
    }
}
