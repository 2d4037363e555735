using Microsoft.Extensions.Logging;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Config;
using Vio4wd.Core.Relays;
using Vio4wd.Sources;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Sources;
using Vio4wd.Core.Health;

namespace Vio4wd.Sources.Files;

/// <summary>
/// The original's file monitor (<c>--ipc</c>): a command file (default /tmp/vio_cmd) holding
/// <c>add_port NETDEV</c> or <c>del_port NETDEV</c> is read, removed and applied to the "file"
/// slice of the desired state; the netdev is resolved as OVSDB's are (representor to VF, relay =
/// VF number). Anything else is refused with a log line and changes nothing.
/// </summary>
public sealed class FileMonitorSource(
    string path,
    NetdevResolver resolver,
    Func<PciAddress, string> deviceOf,
    Func<int, VhostSocketSpec> socketOf,
    ILogger logger) : IRelaySource
{
    public const string SourceName = "file";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private readonly Dictionary<int, (string Netdev, RelaySpec Spec)> _slice = [];
    private bool _tookUpRestored;
    private Core.Posix.FileStatus _lastRefused;

    public string Name => SourceName;

    public async Task RunAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        logger.FileMonitorWatching(path);
        // What was added before a restart of this source stays added, and on the first start what
        // was added before the daemon restarted (the state file).
        if (!_tookUpRestored)
        {
            _tookUpRestored = true;
            foreach (RelayClaim claim in context.Restored.Where(c => c.Key == Key(c.Spec.RelayId) && c.Name is not null))
            {
                _slice[claim.Spec.RelayId] = (claim.Name!, claim.Spec);
            }
        }

        Publish(context);
        context.Report(PartState.Running, path);
        using var timer = new PeriodicTimer(Poll);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Handle(context);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Handle(SourceContext context)
    {
        CommandFileLook look = CommandFileReader.Look(path, FileCommand.MaxBytes);
        if (look.Refusal is { } refusal && !look.Trusted)
        {
            // Not ours to remove (we never unlink what we do not trust); said once per object.
            if (look.Identity != _lastRefused)
            {
                logger.FileCommandRefused(path, refusal);
                _lastRefused = look.Identity;
            }

            return;
        }

        if (look.Refusal is null && look.Content is null)
        {
            return; // no command file
        }

        TryDelete();
        if (look.Refusal is { } tooBig)
        {
            logger.FileCommandRefused(path, tooBig);
            return;
        }

        if (FileCommand.Parse(look.Content, out string error) is not { } command)
        {
            logger.FileCommandRefused(path, error);
            return;
        }

        string text = $"{(command.Add ? "add_port" : "del_port")} {command.Netdev}";
        if (Apply(context, command) is { } problem)
        {
            logger.FileCommandRefused(path, $"{text}: {problem}");
        }
        else
        {
            logger.FileCommandApplied(path, text);
        }
    }

    private string? Apply(SourceContext context, FileCommand command)
    {
        if (resolver.Resolve(command.Netdev, out string error) is not { } vf)
        {
            return error;
        }

        if (vf.RelayId >= context.MaxRelays)
        {
            return $"relay {vf.RelayId} is out of range (relays are 0..{context.MaxRelays - 1})";
        }

        string device = vf.Device.Pci is { } pci ? deviceOf(pci) : vf.Device.Devices[0];
        if (!command.Add)
        {
            if (!_slice.TryGetValue(vf.RelayId, out var entry) || entry.Netdev != command.Netdev)
            {
                return $"no relay was added for {command.Netdev}";
            }

            _slice.Remove(vf.RelayId);
        }
        else
        {
            DesiredRelay? current = context.Desired(vf.RelayId);
            if (current?.Spec.Device is { } taken && current.Source != SourceName)
            {
                return $"relay {vf.RelayId} already has {taken} (from {current.Source})";
            }

            _slice[vf.RelayId] = (command.Netdev, new RelaySpec(vf.RelayId, DeviceAttachment.Of(device), socketOf(vf.RelayId)));
        }

        Publish(context);
        if (context.RefusalOf(Key(vf.RelayId)) is not { } refused)
        {
            return null;
        }

        // A refused command changes nothing: it does not wait in line for the relay.
        _slice.Remove(vf.RelayId);
        Publish(context);
        return refused.Reason;
    }

    private void Publish(SourceContext context) =>
        context.Publish([.. _slice.Select(e => new RelayClaim(Key(e.Key), $"file monitor: add_port {e.Value.Netdev}", e.Value.Spec, e.Value.Netdev))]);

    private static string Key(int relay) => $"relay {relay}";

    private void TryDelete()
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.FileCommandRefused(path, $"cannot remove it: {e.Message}");
        }
    }
}
