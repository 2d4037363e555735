using Vio4wd.Contracts;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Sources;

namespace Vio4wd.Sources.Config;

/// <summary>
/// The relays the configuration asks for: a socket per relay from the name template (unless
/// sockets are dynamic), the static VFs (VIRTIOFWD_STATIC_VFS / -P) and the CPU pins. A static VF
/// always gets its template socket, so its VM can connect even with dynamic sockets. On each
/// <see cref="RequestReload"/> (SIGHUP) or <see cref="ReloadAsync"/> (<c>vio4wdctl reload</c>) the
/// file is read again; a file with errors changes nothing.
/// </summary>
public sealed class StaticConfigSource(LoadedConfiguration initial, Func<LoadedConfiguration> reload, ILogger logger) : IRelaySource
{
    public const string SourceName = "static";

    // Requests wait their turn; SIGHUPs that arrive while one waits are one reload (no answer).
    private readonly Channel<TaskCompletionSource<ReloadView>?> _reloads = Channel.CreateUnbounded<TaskCompletionSource<ReloadView>?>();
    private int _signalPending;
    private volatile LoadedConfiguration _current = initial;

    public string Name => SourceName;

    /// <summary>The configuration in force: the one at start, or the last one a reload applied.</summary>
    public LoadedConfiguration Current => _current;

    /// <summary>Asks for the configuration file to be read again (the daemon calls it on SIGHUP).</summary>
    public void RequestReload()
    {
        if (Interlocked.Exchange(ref _signalPending, 1) == 0)
        {
            _reloads.Writer.TryWrite(null);
        }
    }

    /// <summary>Reads the file again and answers what changed, once the relays follow it (not before the source runs).</summary>
    public async Task<ReloadView> ReloadAsync(CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<ReloadView>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _reloads.Writer.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
        return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RunAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Publish(context, _current.Options!);
        context.Report(PartState.Running);
        try
        {
            await foreach (TaskCompletionSource<ReloadView>? answer in _reloads.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (answer is null)
                {
                    Interlocked.Exchange(ref _signalPending, 0);
                }

                ReloadView outcome;
                try
                {
                    outcome = Reload(context);
                }
                catch (Exception e)
                {
                    answer?.TrySetException(e);
                    throw;
                }

                answer?.TrySetResult(outcome);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private ReloadView Reload(SourceContext context)
    {
        LoadedConfiguration loaded = reload();
        if (loaded.Options is null)
        {
            foreach (string error in loaded.Diagnostics.Errors)
            {
                logger.ReloadRefused(error);
            }

            return new ReloadView(false, loaded.Diagnostics.Errors, []);
        }

        // Relays follow the new file; settings the EAL or the workers were started with
        // (CPUs, memory, jumbo, ...) need a restart, and the answer says so.
        IReadOnlyList<string> changes = ConfigChanges.Describe(_current, loaded, context.MaxRelays);
        _current = loaded;
        Publish(context, loaded.Options);
        logger.Reloaded(changes.Count == 0 ? "nothing changed" : string.Join("; ", changes));
        return new ReloadView(true, [], changes);
    }

    private void Publish(SourceContext context, VirtioForwarderOptions options)
    {
        string[] rejected = [.. Rejected(options, context.MaxRelays)];
        foreach (string problem in rejected)
        {
            logger.ConfigRejected(problem);
        }

        context.Reject(rejected.Select(r => new RejectedRequest(SourceName, "configuration", r)));
        context.Publish(SpecsOf(options, context.MaxRelays).Select(s => new RelayClaim($"relay {s.RelayId}", "the configuration", s)));
    }

    public static IReadOnlyList<RelaySpec> SpecsOf(VirtioForwarderOptions options, int maxRelays)
    {
        ArgumentNullException.ThrowIfNull(options);
        VhostMode mode = options.VhostClientMode ? VhostMode.Client : VhostMode.Server;
        var devices = options.StaticVfs.Where(v => v.RelayId < maxRelays).ToDictionary(v => v.RelayId, v => v.Device.ToString());
        var pins = options.CpuPins.Where(p => p.RelayId < maxRelays).ToDictionary(p => p.RelayId, p => new CpuPins(p.VfToVmCpu, p.VmToVfCpu));
        IEnumerable<int> relays = options.DynamicSockets
            ? devices.Keys.Union(pins.Keys)
            : Enumerable.Range(0, maxRelays);
        return [.. relays.Order().Select(id => new RelaySpec(
            id,
            devices.TryGetValue(id, out string? device) ? DeviceAttachment.Of(device) : null,
            !options.DynamicSockets || devices.ContainsKey(id) ? new VhostSocketSpec(options.SocketPathOf(id), mode) : null,
            pins.GetValueOrDefault(id)))];
    }

    /// <summary>Static VFs the dataplane cannot hold (relay id beyond its limit).</summary>
    public static IEnumerable<string> Rejected(VirtioForwarderOptions options, int maxRelays) =>
        options.StaticVfs.Where(v => v.RelayId >= maxRelays)
            .Select(v => $"static VF {v.Device} skipped: relay {v.RelayId} is out of range (relays are 0..{maxRelays - 1})");
}
