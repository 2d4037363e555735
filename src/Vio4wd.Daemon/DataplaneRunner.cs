using System.Runtime.InteropServices;
using Vio4wd.Core.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Dataplane;

namespace Vio4wd.Daemon;

/// <summary>
/// Brings the DPDK dataplane up with the configured EAL arguments and holds it until SIGTERM
/// or SIGINT. Relays, providers and the control API are added on top of this by later work.
/// </summary>
internal static class DataplaneRunner
{
    public static async Task<int> RunAsync(VirtioForwarderOptions options)
    {
        IReadOnlyList<string> ealArgs = EalArgumentsBuilder.Build(options, HostInspector.Numa());
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        EalSession eal;
        try
        {
            eal = await EalSession.StartAsync(ealArgs, VirtioForwarder.Name).ConfigureAwait(false);
        }
        catch (DataplaneException e)
        {
            await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {e.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: EAL arguments: {string.Join(' ', ealArgs)}").ConfigureAwait(false);
            return 255;
        }

        await using (eal.ConfigureAwait(false))
        {
            await Console.Out.WriteLineAsync($"{VirtioForwarder.Name}: DPDK version: {DpdkBuild.Version}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"{VirtioForwarder.Name}: Maximum relays is {DpdkBuild.MaxRelays}, increase RTE_MAX_ETHPORTS in DPDK if more are required").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"{VirtioForwarder.Name}: EAL running on main lcore {eal.MainLcore}; waiting for SIGTERM").ConfigureAwait(false);
            await stop.Task.ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"{VirtioForwarder.Name}: Stopping virtio-forwarder").ConfigureAwait(false);
        }

        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
    }
}
