using System.Text.Json;
using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// What the package says about what it bundles: every NuGet package whose assemblies the three
/// programs ship is named in debian/copyright with a licence, and the metadata points at this
/// project (not at the original's repository).
/// </summary>
public class LicensingTests
{
    private static readonly string[] ShippedProjects = ["Vio4wd.Daemon", "Vio4wd.Ctl", "Vio4wd.CoreScheduler"];

    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([TestPaths.RepositoryRoot, .. path]));

    [Test]
    public void Every_bundled_nuget_package_is_named_in_debian_copyright()
    {
        string copyright = Read("debian", "copyright");
        string[] packages = [.. ShippedProjects.SelectMany(RuntimePackages).Distinct().Order(StringComparer.Ordinal)];
        Assert.That(packages, Does.Contain("StreamJsonRpc"), "the assets files are read (StreamJsonRpc is a direct dependency)");
        Assert.That(packages.Where(p => !copyright.Contains(p, StringComparison.Ordinal)), Is.Empty,
            "packages whose assemblies are shipped but that debian/copyright does not name");
    }

    [Test]
    public void Licence_files_and_metadata_point_at_this_project()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Read("LICENSE"), Does.StartWith("BSD 3-Clause License"));
            Assert.That(Read("debian", "copyright"), Does.Contain("License: BSD-3-Clause").And.Contain("License: MIT"));
            Assert.That(Read("debian", "control"), Does.Contain("Homepage: https://github.com/vio4wd/vio4wd"));
            foreach (string unit in Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "systemd"), "*.service"))
            {
                string documentation = File.ReadLines(unit).Single(l => l.StartsWith("Documentation=", StringComparison.Ordinal));
                Assert.That(documentation, Does.Contain("https://github.com/vio4wd/vio4wd").And.Not.Contain("Netronome"), unit);
            }
        });
    }

    // Packages with runtime assemblies in any runtime-specific target of the project's restore.
    private static IEnumerable<string> RuntimePackages(string project)
    {
        using JsonDocument assets = JsonDocument.Parse(Read("src", project, "obj", "project.assets.json"));
        foreach (JsonProperty target in assets.RootElement.GetProperty("targets").EnumerateObject())
        {
            foreach (JsonProperty library in target.Value.EnumerateObject())
            {
                if (library.Value.GetProperty("type").GetString() == "package" &&
                    library.Value.TryGetProperty("runtime", out JsonElement runtime) &&
                    runtime.EnumerateObject().Any(f => !f.Name.EndsWith("_._", StringComparison.Ordinal)))
                {
                    yield return library.Name.Split('/')[0];
                }
            }
        }
    }
}
