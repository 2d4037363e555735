namespace Vio4wd.Testing;

/// <summary>Where the tests find what `make build` made.</summary>
public static class TestPaths
{
    /// <summary>The source tree the test binaries were built in (the directory of Vio4wd.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vio4wd.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Vio4wd.sln not found above the test binaries");
    }
}
