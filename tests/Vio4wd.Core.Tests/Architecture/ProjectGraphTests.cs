using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using Vio4wd.Testing;

namespace Vio4wd.Core.Tests.Architecture;

/// <summary>
/// Dependencies point one way (docs/architecture.md, "Layers"): contracts ← configuration, and
/// contracts ← core ← dataplane binding, sources, served APIs ← daemon; the configuration knows
/// nothing of relays and core nothing of how settings are parsed; transports know nothing of
/// relays; the tools carry no DPDK.
/// Read from the project files and, for native code, from the built assemblies' metadata.
/// </summary>
public class ProjectGraphTests
{
    private static readonly string Root = TestPaths.RepositoryRoot;

    private static readonly Dictionary<string, string[]> Forbidden = new()
    {
        ["Vio4wd.Contracts"] = ["Vio4wd.Configuration", "Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Zmq", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon", "Vio4wd.Logging"],
        ["Vio4wd.Configuration"] = ["Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Zmq", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon", "Vio4wd.Logging"],
        ["Vio4wd.Core"] = ["Vio4wd.Configuration", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Zmq", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.Ovsdb"] = ["Vio4wd.Contracts", "Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Zmq", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.Zmq"] = ["Vio4wd.Contracts", "Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.Dataplane"] = ["Vio4wd.Ovsdb", "Vio4wd.Zmq", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.Sources"] = ["Vio4wd.Dataplane", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.Api"] = ["Vio4wd.Dataplane", "Vio4wd.Sources", "Vio4wd.Daemon"],
        ["Vio4wd.Ctl"] = ["Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
        ["Vio4wd.CoreScheduler"] = ["Vio4wd.Core", "Vio4wd.Dataplane", "Vio4wd.Ovsdb", "Vio4wd.Sources", "Vio4wd.Api", "Vio4wd.Daemon"],
    };

    [Test]
    public void No_project_depends_on_what_comes_after_it_in_the_data_flow()
    {
        Dictionary<string, IReadOnlyList<string>> graph = ProjectGraph();
        Assert.That(graph.Keys, Is.SupersetOf(Forbidden.Keys), "every project the rules name exists");
        Assert.Multiple(() =>
        {
            foreach ((string project, string[] forbidden) in Forbidden)
            {
                IReadOnlySet<string> reached = Closure(graph, project);
                Assert.That(reached.Intersect(forbidden), Is.Empty, $"{project} reaches (directly or not) {string.Join(", ", reached.Intersect(forbidden))}");
            }
        });
    }

    [Test]
    public void Only_the_dataplane_binding_calls_libvio4wd_and_the_tools_call_no_native_library_but_libzmq()
    {
        Dictionary<string, IReadOnlyList<string>> graph = ProjectGraph();
        var users = graph.Keys.Where(p => NativeLibraries(p).Any(l => l.Contains("vio4wd", StringComparison.Ordinal))).ToList();
        Assert.That(users, Is.EqualTo(new[] { "Vio4wd.Dataplane" }));
        foreach (string tool in new[] { "Vio4wd.Ctl", "Vio4wd.CoreScheduler" })
        {
            var native = Closure(graph, tool).Append(tool).SelectMany(NativeLibraries).Distinct().ToList();
            Assert.That(native, Is.SubsetOf(new[] { "libzmq.so.5" }), $"{tool} and what it references call only libzmq");
            Assert.That(File.Exists(Path.Combine(BinOf(tool), "libvio4wd.so")), Is.False, $"{tool} does not ship the dataplane library");
        }
    }

    [Test]
    public void The_configuration_and_what_it_references_call_no_native_library()
    {
        Dictionary<string, IReadOnlyList<string>> graph = ProjectGraph();
        var native = Closure(graph, "Vio4wd.Configuration").Append("Vio4wd.Configuration").SelectMany(NativeLibraries).Distinct().ToList();
        Assert.That(native, Is.Empty, "vio4wdctl reads the configuration too, without DPDK or libzmq");
    }

    [Test]
    public void Core_uses_no_type_of_the_configuration()
    {
        // Project references aside (above), no source file of core names the configuration's namespace.
        var offenders = Directory.EnumerateFiles(Path.Combine(Root, "src", "Vio4wd.Core"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("Vio4wd.Configuration", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Root, f)).ToList();
        Assert.That(offenders, Is.Empty);
    }

    private static Dictionary<string, IReadOnlyList<string>> ProjectGraph() =>
        Directory.GetDirectories(Path.Combine(Root, "src")).Select(Path.GetFileName).OfType<string>()
            .Where(name => File.Exists(Path.Combine(Root, "src", name, $"{name}.csproj")))
            .ToDictionary(name => name, name => (IReadOnlyList<string>)[.. XDocument.Load(Path.Combine(Root, "src", name, $"{name}.csproj"))
                .Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!))]);

    private static HashSet<string> Closure(Dictionary<string, IReadOnlyList<string>> graph, string project)
    {
        var reached = new HashSet<string>();
        var pending = new Stack<string>(graph[project]);
        while (pending.TryPop(out string? next))
        {
            if (reached.Add(next))
            {
                foreach (string further in graph.GetValueOrDefault(next) ?? [])
                {
                    pending.Push(further);
                }
            }
        }

        return reached;
    }

    // The native modules an assembly's P/Invokes name (LibraryImport stubs end in DllImport).
    private static IEnumerable<string> NativeLibraries(string project)
    {
        string assembly = Directory.GetFiles(BinOf(project), "*.dll").Single(f => AssemblyNameOf(f) == project || Path.GetFileNameWithoutExtension(f) == project || IsProgramOf(project, f));
        using var stream = File.OpenRead(assembly);
        using var pe = new PEReader(stream);
        MetadataReader reader = pe.GetMetadataReader();
        return [.. Enumerable.Range(1, reader.GetTableRowCount(TableIndex.ModuleRef))
            .Select(row => reader.GetString(reader.GetModuleReference(MetadataTokens.ModuleReferenceHandle(row)).Name))];
    }

    // Programs are named after what users type (virtio-forwarder, vio4wdctl, ...).
    private static bool IsProgramOf(string project, string file) =>
        XDocument.Load(Path.Combine(Root, "src", project, $"{project}.csproj")).Descendants("AssemblyName").FirstOrDefault()?.Value == Path.GetFileNameWithoutExtension(file);

    private static string? AssemblyNameOf(string file)
    {
        using var stream = File.OpenRead(file);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            return null;
        }

        MetadataReader reader = pe.GetMetadataReader();
        return reader.IsAssembly ? reader.GetString(reader.GetAssemblyDefinition().Name) : null;
    }

    // Built like the tests themselves (Release under make test).
    private static string BinOf(string project)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(Root, "src", project, "bin", configuration, "net10.0");
    }
}
