using System.Runtime.InteropServices;
using Vio4wd.Core.Configuration;
using Vio4wd.Core.Providers;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Dataplane;
using Vio4wd.Dataplane.Model;

namespace Vio4wd.Daemon;

/// <summary>
/// Brings the DPDK dataplane up with the configured EAL arguments, sets up the configured
/// relays and forwards until SIGTERM or SIGINT; then removes every relay (server sockets are
/// deleted, devices detached) and stops.
/// </summary>
internal static class DataplaneRunner
{
    /// <param name="reload">Reads the configuration again (SIGHUP).</param>
    public static async Task<int> RunAsync(VirtioForwarderOptions options, Func<LoadedConfiguration> reload)
    {
        IReadOnlyList<string> ealArgs = EalArgumentsBuilder.Build(options, HostInspector.Numa());
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        using PidFile? pidFile = PidFile.Acquire(options.PidFile, out string? pidError);
        if (pidFile is null)
        {
            await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {pidError}").ConfigureAwait(false);
            return 1;
        }

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
            Log($"DPDK version: {DpdkBuild.Version}");
            Log($"Maximum relays is {DpdkBuild.MaxRelays}, increase RTE_MAX_ETHPORTS in DPDK if more are required");
            DataplaneOptions dataplaneOptions;
            try
            {
                dataplaneOptions = DataplaneOptionsOf(options);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            NativeDataplane dataplane;
            try
            {
                dataplane = await NativeDataplane.StartAsync(eal, dataplaneOptions).ConfigureAwait(false);
            }
            catch (DataplaneException e)
            {
                await Console.Error.WriteLineAsync($"{VirtioForwarder.Name}: {e.Message}").ConfigureAwait(false);
                return 255;
            }

            await using (dataplane.ConfigureAwait(false))
            {
                using var stopping = new CancellationTokenSource();
                Log($"Workers on CPUs {string.Join(',', dataplane.WorkerCpus)}, main lcore {eal.MainLcore}");
                var desired = new DesiredStateStore();
                var statuses = new RelayStatusStore();
                using var reconciler = new Reconciler(dataplane, desired, statuses)
                {
                    EventRecorded = (relay, e) => Log($"relay {relay}: {e.Reason}: {e.Message}"),
                    DataplaneEventSeen = e =>
                    {
                        if (EventLog.Describe(e) is { } line)
                        {
                            Log(line);
                        }
                    },
                };
                foreach (string rejected in StaticConfigProvider.Rejected(options, dataplane.MaxRelays))
                {
                    Log(rejected);
                }

                Directory.CreateDirectory(options.SocketDirectory);
                desired.ReplaceSlice(StaticConfigProvider.Source, StaticConfigProvider.SpecsOf(options, dataplane.MaxRelays));
                Task reconciling = reconciler.RunAsync(stopping.Token);
                await reconciler.WhenSyncedAsync(TimeSpan.FromSeconds(30), stopping.Token).ConfigureAwait(false);
                Task control = new ControlServer(options.ControlSocket, new ControlApiService(statuses, dataplane), Log).RunAsync(stopping.Token);
                using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
                {
                    context.Cancel = true;
                    Reload(reload, desired, dataplane.MaxRelays);
                });
                Log("Forwarding; waiting for SIGTERM");
                await stop.Task.ConfigureAwait(false);
                Log("Stopping virtio-forwarder");
                await stopping.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(reconciling, control).ConfigureAwait(false);
            }
        }

        return 0;

        // Relays follow the new file; settings the EAL or the workers were started with
        // (CPUs, memory, jumbo, ...) need a restart. A bad file changes nothing.
        static void Reload(Func<LoadedConfiguration> reload, DesiredStateStore desired, int maxRelays)
        {
            LoadedConfiguration loaded = reload();
            if (loaded.Options is null)
            {
                foreach (string error in loaded.Diagnostics.Errors)
                {
                    Log($"SIGHUP: configuration not reloaded: {error}");
                }

                return;
            }

            foreach (string rejected in StaticConfigProvider.Rejected(loaded.Options, maxRelays))
            {
                Log(rejected);
            }

            desired.ReplaceSlice(StaticConfigProvider.Source, StaticConfigProvider.SpecsOf(loaded.Options, maxRelays));
            Log("SIGHUP: relays reloaded from the configuration");
        }

        static void Log(string line) => Console.Out.WriteLine($"{VirtioForwarder.Name}: {line}");

        static DataplaneOptions DataplaneOptionsOf(VirtioForwarderOptions options)
        {
            int? uid = HostInspector.UserId(options.SocketOwner, out string? userError);
            int? gid = HostInspector.GroupId(options.SocketGroup, out string? groupError);
            if (userError is not null || groupError is not null)
            {
                throw new ArgumentException(userError ?? groupError);
            }

            return new DataplaneOptions(options.Jumbo, options.MergeableBuffers, options.Tso, uid, gid);
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
    }
}
