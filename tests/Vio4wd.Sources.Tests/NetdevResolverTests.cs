using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Config;
using Vio4wd.Testing;

namespace Vio4wd.Sources.Tests;

/// <summary>Netdev to VF, over a fake sysfs tree laid out as the kernel does it.</summary>
public class NetdevResolverTests
{
    [Test]
    public void A_switchdev_representor_resolves_to_its_pfs_virtfn_and_the_vf_number()
    {
        using var sysfs = new TempDirectory();
        string pf = Directory.CreateDirectory(sysfs.File("devices/pci0000:00/0000:05:00.0")).FullName;
        Directory.CreateDirectory(sysfs.File("devices/pci0000:00/0000:05:00.4"));
        File.CreateSymbolicLink(Path.Combine(pf, "virtfn3"), "../0000:05:00.4");
        string netdev = Directory.CreateDirectory(sysfs.File("class/net/eth5")).FullName;
        File.WriteAllText(Path.Combine(netdev, "phys_port_name"), "pf0vf3\n");
        Directory.CreateSymbolicLink(Path.Combine(netdev, "device"), pf);

        ResolvedVf? vf = new NetdevResolver(sysfs.Path, _ => null).Resolve("eth5", out string error);
        Assert.That((vf?.Device.Devices[0], vf?.RelayId, error), Is.EqualTo(("0000:05:00.4", 3, string.Empty)));
    }

    [Test]
    public void A_netronome_representor_resolves_from_ethtool_as_the_original_did()
    {
        using var sysfs = new TempDirectory();
        var resolver = new NetdevResolver(sysfs.Path, name => name == "nfp_v0.40" ? "driver: nfp\nbus-info: NFP 0 VF0.40 0000:05:0d.0\n" : null);
        ResolvedVf? vf = resolver.Resolve("nfp_v0.40", out _);
        Assert.That((vf?.Device.Devices[0], vf?.RelayId), Is.EqualTo(("0000:05:0d.0", 40)));
    }

    [TestCase("eth9", "no network interface eth9 on this host; set external_ids:virtio_forwarder_dev and virtio_forwarder_relay")]
    [TestCase("../../etc", "'../../etc' is not a valid network interface name")]
    [TestCase("a-name-that-is-too-long", "'a-name-that-is-too-long' is not a valid network interface name")]
    public void Anything_else_is_refused_with_a_reason(string netdev, string expected)
    {
        using var sysfs = new TempDirectory();
        Assert.That(new NetdevResolver(sysfs.Path, _ => null).Resolve(netdev, out string error), Is.Null);
        Assert.That(error, Is.EqualTo(expected));
    }
}
