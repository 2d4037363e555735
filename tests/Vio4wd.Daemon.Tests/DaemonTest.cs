using Vio4wd.Testing;

namespace Vio4wd.Daemon.Tests;

/// <summary>
/// What every test fixture that starts the daemon or a DPDK VM stand-in shares: a deadline for
/// events about ten times what they take on a loaded machine, a <c>--file-prefix</c> of its own
/// for each DPDK process, and the removal of their runtime folders after every test, passed or
/// failed.
/// </summary>
/// <param name="scope">Names this fixture's prefixes (vio4wd-SCOPE-NAME-PID).</param>
public abstract class DaemonTest(string scope)
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected DpdkPrefixes Prefixes { get; } = new(scope);

    /// <summary>A prefix of this fixture's for one DPDK process of the test.</summary>
    protected string Prefix(string name) => Prefixes.Next(name);

    [TearDown]
    public void RemoveRuntimeFolders() => Prefixes.RemoveAll();
}
