using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Sources;

namespace Vio4wd.Sources.Config;

/// <summary>
/// The relays the configuration asks for: a socket per relay from the name template (unless
/// sockets are dynamic), the static VFs (VIRTIOFWD_STATIC_VFS / -P) and the CPU pins. A static VF
/// always gets its template socket, so its VM can connect even with dynamic sockets. On each
/// <see cref="RequestReload"/> (SIGHUP) the file is read again; a file with errors changes nothing.
/// </summary>
public sealed class StaticConfigSource(VirtioForwarderOptions initial, Func<LoadedConfiguration> reload, ILogger logger) : IRelaySource
{
    public const string SourceName = "static";
    private readonly Channel<bool> _reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private VirtioForwarderOptions _current = initial;

    public string Name => SourceName;

    /// <summary>Asks for the configuration file to be read again (the daemon calls it on SIGHUP).</summary>
    public void RequestReload() => _reloads.Writer.TryWrite(true);

    public async Task RunAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Publish(context, _current);
        context.Report(PartState.Running);
        while (await WaitForReloadAsync(cancellationToken).ConfigureAwait(false))
        {
            LoadedConfiguration loaded = reload();
            if (loaded.Options is null)
            {
                foreach (string error in loaded.Diagnostics.Errors)
                {
                    logger.ReloadRefused(error);
                }

                continue;
            }

            // Relays follow the new file; settings the EAL or the workers were started with
            // (CPUs, memory, jumbo, ...) need a restart.
            _current = loaded.Options;
            Publish(context, _current);
            logger.Reloaded();
        }
    }

    private async Task<bool> WaitForReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _reloads.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _reloads.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
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
