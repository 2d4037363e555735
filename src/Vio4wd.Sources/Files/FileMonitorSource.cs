using Microsoft.Extensions.Logging;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Sources.Netdev;
using Vio4wd.Sources.Files;
using Vio4wd.Sources.Config;
using Vio4wd.Core.Relays;
using Vio4wd.Sources;
using Vio4wd.Core.Dataplane;

namespace Vio4wd.Sources.Files;

/// <summary>
/// The original's file monitor (<c>--ipc</c>): a command file (default /tmp/vio_cmd) holding
/// <c>add_port NETDEV</c> or <c>del_port NETDEV</c> is read, removed and applied to the "file"
/// slice of the desired state; the netdev is resolved as OVSDB's are (representor to VF, relay =
/// VF number). Anything else is refused with a log line and changes nothing.
/// </summary>
public sealed class FileMonitorPortControl(
    string path,
    NetdevResolver resolver,
    Func<PciAddress, string> deviceOf,
    int maxRelays,
    Func<int, VhostSocketSpec> socketOf,
    DesiredStateStore desired,
    ILogger logger)
{
    public const string Source = "file";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private readonly Dictionary<int, (string Netdev, RelaySpec Spec)> _slice = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        logger.FileMonitorWatching(path);
        using var timer = new PeriodicTimer(Poll);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (File.Exists(path))
                {
                    await HandleAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync()
    {
        byte[] content;
        try
        {
            var file = new FileInfo(path);
            // Never follow a link someone planted in a shared directory.
            content = file.LinkTarget is not null ? throw new IOException("it is a symbolic link")
                : file.Length > FileCommand.MaxBytes ? new byte[file.Length > int.MaxValue ? int.MaxValue : (int)file.Length]
                : await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.FileCommandRefused(path, $"cannot read it: {e.Message}");
            TryDelete();
            return;
        }

        TryDelete();
        if (FileCommand.Parse(content, out string error) is not { } command)
        {
            logger.FileCommandRefused(path, error);
            return;
        }

        string text = $"{(command.Add ? "add_port" : "del_port")} {command.Netdev}";
        if (Apply(command) is { } problem)
        {
            logger.FileCommandRefused(path, $"{text}: {problem}");
        }
        else
        {
            logger.FileCommandApplied(path, text);
        }
    }

    private string? Apply(FileCommand command)
    {
        if (resolver.Resolve(command.Netdev, out string error) is not { } vf)
        {
            return error;
        }

        if (vf.RelayId >= maxRelays)
        {
            return $"relay {vf.RelayId} is out of range (relays are 0..{maxRelays - 1})";
        }

        string device = vf.Device.Pci is { } pci ? deviceOf(pci) : vf.Device.Text;
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
            DesiredRelay? current = desired.Get(vf.RelayId);
            if (current?.Spec.Device is { } taken && current.Source != Source)
            {
                return $"relay {vf.RelayId} already has {taken} (from {current.Source})";
            }

            _slice[vf.RelayId] = (command.Netdev, new RelaySpec(vf.RelayId, DeviceAttachment.Of(device), socketOf(vf.RelayId)));
        }

        desired.ReplaceSlice(Source, [.. _slice.Values.Select(e => e.Spec)]);
        return null;
    }

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
