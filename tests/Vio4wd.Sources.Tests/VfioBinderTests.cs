using Vio4wd.Sources.Netdev;
using Vio4wd.Testing;

namespace Vio4wd.Sources.Tests;

/// <summary>VIRTIOFWD_BIND_VFIO_PCI against a fake sysfs tree: which files are written, in which order, and the errors.</summary>
public class VfioBinderTests
{
    private sealed class FakeSysfs : IDisposable
    {
        private readonly TempDirectory _root = new();

        public FakeSysfs(bool vfioLoaded = true)
        {
            Directory.CreateDirectory(Path.Combine(Root, "bus", "pci", "drivers", "iavf"));
            if (vfioLoaded)
            {
                Directory.CreateDirectory(Path.Combine(Root, "bus", "pci", "drivers", "vfio-pci"));
            }
        }

        public string Root => _root.Path;

        public List<(string Path, string Value)> Writes { get; } = [];

        /// <summary>The kernel's side: a probe after driver_override gives the device to that driver.</summary>
        public bool ProbeBinds { get; set; } = true;

        public void Device(string pci, string? driver)
        {
            string dir = Path.Combine(Root, "bus", "pci", "devices", pci);
            Directory.CreateDirectory(dir);
            if (driver is not null)
            {
                Directory.CreateSymbolicLink(Path.Combine(dir, "driver"), Path.Combine(Root, "bus", "pci", "drivers", driver));
            }
        }

        public void Pf(string netdev, params (int Index, string Pci)[] vfs)
        {
            string device = Path.Combine(Root, "class", "net", netdev, "device");
            Directory.CreateDirectory(device);
            foreach ((int index, string pci) in vfs)
            {
                Device(pci, "iavf");
                Directory.CreateSymbolicLink(Path.Combine(device, $"virtfn{index}"), Path.Combine(Root, "bus", "pci", "devices", pci));
            }
        }

        public void Write(string path, string value)
        {
            Writes.Add((path[Root.Length..], value));
            if (ProbeBinds && path.EndsWith("/drivers_probe", StringComparison.Ordinal))
            {
                string link = Path.Combine(Root, "bus", "pci", "devices", value, "driver");
                File.Delete(link);
                Directory.CreateSymbolicLink(link, Path.Combine(Root, "bus", "pci", "drivers", "vfio-pci"));
            }
        }

        public void Dispose() => _root.Dispose();
    }

    private static IReadOnlyList<VfioBinding> Bind(FakeSysfs sysfs, params string[] selectors) =>
        new VfioBinder(sysfs.Root, sysfs.Write).Bind(selectors);

    [Test]
    public void A_pci_address_is_given_to_vfio_pci_by_override_unbind_and_probe_in_that_order()
    {
        using var sysfs = new FakeSysfs();
        sysfs.Device("0000:05:08.1", "iavf");
        IReadOnlyList<VfioBinding> result = Bind(sysfs, "05:08.1");
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new[] { new VfioBinding("05:08.1", "0000:05:08.1", null) }));
            Assert.That(sysfs.Writes, Is.EqualTo(new[]
            {
                ("/bus/pci/devices/0000:05:08.1/driver_override", "vfio-pci"),
                ("/bus/pci/devices/0000:05:08.1/driver/unbind", "0000:05:08.1"),
                ("/bus/pci/drivers_probe", "0000:05:08.1"),
            }));
        });
    }

    [Test]
    public void A_netdev_names_its_vfs_in_vf_order_and_a_count_only_the_first_ones()
    {
        using var sysfs = new FakeSysfs();
        sysfs.Pf("ens1f0", (10, "0000:05:09.2"), (2, "0000:05:08.2"), (0, "0000:05:08.0"));
        IReadOnlyList<VfioBinding> all = Bind(sysfs, "ens1f0");
        IReadOnlyList<VfioBinding> none = Bind(sysfs, "ens1f0:2");
        Assert.Multiple(() =>
        {
            Assert.That(all.Select(b => (b.Pci, b.Bound)), Is.EqualTo(new[] { ("0000:05:08.0", true), ("0000:05:08.2", true), ("0000:05:09.2", true) }));
            Assert.That(none.Select(b => (b.Pci, b.Bound)), Is.EqualTo(new[] { ("0000:05:08.0", true), ("0000:05:08.2", true) }));
            Assert.That(sysfs.Writes.Count(w => w.Path.EndsWith("drivers_probe", StringComparison.Ordinal)), Is.EqualTo(3), "the second time they are vfio-pci's already: nothing written");
        });
    }

    [Test]
    public void A_device_on_vfio_pci_already_is_left_alone()
    {
        using var sysfs = new FakeSysfs();
        sysfs.Device("0000:05:08.1", "vfio-pci");
        Assert.Multiple(() =>
        {
            Assert.That(Bind(sysfs, "0000:05:08.1").Single().Bound, Is.True);
            Assert.That(sysfs.Writes, Is.Empty);
        });
    }

    [Test]
    public void What_cannot_be_bound_says_why_naming_the_driver_that_has_it()
    {
        using var sysfs = new FakeSysfs { ProbeBinds = false };
        sysfs.Device("0000:05:08.1", "iavf");
        sysfs.Pf("ens1f1", (0, "0000:06:02.0"));
        using var unloaded = new FakeSysfs(vfioLoaded: false);
        unloaded.Device("0000:05:08.1", "iavf");
        Assert.Multiple(() =>
        {
            Assert.That(Bind(sysfs, "0000:05:08.1").Single().Error,
                Is.EqualTo("VIRTIOFWD_BIND_VFIO_PCI: 0000:05:08.1 is bound to iavf, not vfio-pci, after binding (is its IOMMU group viable? see dmesg)"));
            Assert.That(Bind(sysfs, "0000:07:00.0").Single().Error, Is.EqualTo("VIRTIOFWD_BIND_VFIO_PCI: no PCI device 0000:07:00.0 on this host"));
            Assert.That(Bind(sysfs, "eth9").Single().Error, Is.EqualTo("VIRTIOFWD_BIND_VFIO_PCI: no network interface eth9 on this host"));
            Assert.That(Bind(sysfs, "ens1f1:4")[0].Error, Is.EqualTo("VIRTIOFWD_BIND_VFIO_PCI: ens1f1 has 1 VFs, 4 asked for (sriov_numvfs sets how many it has)"));
            Assert.That(Bind(unloaded, "0000:05:08.1").Single().Error,
                Is.EqualTo("VIRTIOFWD_BIND_VFIO_PCI: cannot bind 0000:05:08.1 to vfio-pci: the driver is not loaded (modprobe vfio-pci)"));
            Assert.That(unloaded.Writes, Is.Empty);
        });
    }
}
