using System.Text.RegularExpressions;
using Vio4wd.Testing;

namespace Vio4wd.Core.Tests.Architecture;

/// <summary>
/// The documents stay true to the tree: every path and source file they name exists, the README
/// stays a front door, and nothing points outside the repository (a clone has nothing beside it).
/// </summary>
public partial class DocsTests
{
    private static readonly string Root = TestPaths.RepositoryRoot;

    private static readonly string[] Skipped = [".git", "bin", "obj", "out", "node_modules", ".vs"];

    private static IEnumerable<string> Documents() =>
        Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md").Append(Path.Combine(Root, "README.md")).Append(Path.Combine(Root, "SECURITY.md"));

    [Test]
    public void The_readme_is_a_front_door_of_at_most_250_lines()
    {
        Assert.That(File.ReadAllLines(Path.Combine(Root, "README.md")), Has.Length.LessThanOrEqualTo(250));
        Assert.That(File.Exists(Path.Combine(Root, "docs", "architecture.md")), Is.True);
        Assert.That(File.Exists(Path.Combine(Root, "docs", "operations.md")), Is.True);
    }

    [Test]
    public void Every_path_the_documents_name_exists()
    {
        var missing = new List<string>();
        foreach (string document in Documents())
        {
            foreach (Match quoted in Quoted().Matches(File.ReadAllText(document)))
            {
                string path = quoted.Groups[1].Value.TrimEnd('.', ',', ':');
                if (RepositoryPath().IsMatch(path) && !path.Contains('<', StringComparison.Ordinal) && !path.Contains('*', StringComparison.Ordinal)
                    && !File.Exists(Path.Combine(Root, path)) && !Directory.Exists(Path.Combine(Root, path)))
                {
                    missing.Add($"{Path.GetFileName(document)}: {path}");
                }
            }
        }

        Assert.That(missing, Is.Empty);
    }

    [Test]
    public void Every_source_file_the_documents_name_exists_in_the_tree()
    {
        HashSet<string> files = [.. Tree().Select(Path.GetFileName).OfType<string>()];
        var missing = new List<string>();
        foreach (string document in Documents())
        {
            foreach (Match quoted in SourceFile().Matches(File.ReadAllText(document)))
            {
                string name = Path.GetFileName(quoted.Groups[1].Value);
                if (!files.Contains(name))
                {
                    missing.Add($"{Path.GetFileName(document)}: {quoted.Groups[1].Value}");
                }
            }
        }

        Assert.That(missing, Is.Empty);
    }

    [Test]
    public void Nothing_in_the_repository_points_outside_it()
    {
        var offenders = Tree()
            .Where(f => new FileInfo(f).Length < 1_000_000)
            .Where(f => File.ReadAllText(f).Contains("../shared", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Root, f))
            .Where(f => f != Path.Combine("tests", "Vio4wd.Core.Tests", "Architecture", "DocsTests.cs"))
            .ToList();
        Assert.That(offenders, Is.Empty);
    }

    private static IEnumerable<string> Tree()
    {
        var pending = new Stack<string>([Root]);
        while (pending.TryPop(out string? dir))
        {
            foreach (string sub in Directory.EnumerateDirectories(dir))
            {
                string name = Path.GetFileName(sub);
                // Build products of the package (debian/vio4wd/...) are not the repository's.
                if (!Skipped.Contains(name) && !(name == "vio4wd" && Path.GetFileName(dir) == "debian") && !name.StartsWith(".debhelper", StringComparison.Ordinal))
                {
                    pending.Push(sub);
                }
            }

            foreach (string file in Directory.EnumerateFiles(dir))
            {
                yield return file;
            }
        }
    }

    [GeneratedRegex("`([^`\\s]+)`")]
    private static partial Regex Quoted();

    [GeneratedRegex("^(src|interop|tests|tools|bench|demo|charts|config|systemd|fuzz|docs|debian|image|man|completion|\\.ci)/")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex("`([A-Za-z0-9_./-]+\\.(?:cs|c|h|proto))`")]
    private static partial Regex SourceFile();
}
