using StreamJsonRpc;
using Vio4wd.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Ways for tests to change the dataplane behind the reconciler's back (drift). Served on the
/// control socket only when the daemon runs with VIO4WD_TEST_HOOKS=1.
/// </summary>
internal sealed class TestHooks(IDataplane dataplane)
{
    public const string EnableVariable = "VIO4WD_TEST_HOOKS";

    public static TestHooks? IfEnabled(IDataplane dataplane) =>
        Environment.GetEnvironmentVariable(EnableVariable) == "1" ? new TestHooks(dataplane) : null;

    /// <summary>Detaches the relay's device and unregisters its socket, telling nobody.</summary>
    [JsonRpcMethod("test.removeRelay")]
    public async Task RemoveRelayAsync(int relay)
    {
        await dataplane.DetachDeviceAsync(relay).ConfigureAwait(false);
        await dataplane.UnregisterSocketAsync(relay).ConfigureAwait(false);
    }
}
