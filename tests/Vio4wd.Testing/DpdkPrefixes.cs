namespace Vio4wd.Testing;

/// <summary>
/// The <c>--file-prefix</c> of each DPDK process a test fixture starts (each its own), so that
/// their runtime folders under /var/run/dpdk go after every test, also after a failed one.
/// </summary>
public sealed class DpdkPrefixes(string scope)
{
    private readonly List<string> _prefixes = [];

    /// <summary>A new prefix, unique to this fixture, test name part and test process.</summary>
    public string Next(string name) => Add($"vio4wd-{scope}-{name}-{Environment.ProcessId}");

    /// <summary>Also removes a prefix chosen elsewhere (a testpmd VM's).</summary>
    public string Add(string prefix)
    {
        _prefixes.Add(prefix);
        return prefix;
    }

    public void RemoveAll()
    {
        DpdkRuntime.Remove(_prefixes);
        _prefixes.Clear();
    }
}
