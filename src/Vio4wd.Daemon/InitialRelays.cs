using Vio4wd.Core.Configuration;
using Vio4wd.Dataplane;
using Vio4wd.Dataplane.Model;

namespace Vio4wd.Daemon;

/// <summary>
/// Applies the relays the configuration asks for at start: CPU pins, the default sockets
/// (unless sockets are dynamic) and the static VFs. A relay that cannot be set up is reported
/// and skipped; the others still come up. (The reconciler takes this job over once it exists.)
/// </summary>
internal sealed class InitialRelays(IDataplane dataplane, VirtioForwarderOptions options, Action<string> log)
{
    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        foreach (CpuPin pin in options.CpuPins)
        {
            await TryAsync($"pinning relay {pin.RelayId}",
                () => dataplane.SetCpusAsync(pin.RelayId, pin.VfToVmCpu, pin.VmToVfCpu, cancellationToken)).ConfigureAwait(false);
        }

        if (!options.DynamicSockets)
        {
            Directory.CreateDirectory(options.SocketDirectory);
            VhostMode mode = options.VhostClientMode ? VhostMode.Client : VhostMode.Server;
            for (int relay = 0; relay < dataplane.MaxRelays; relay++)
            {
                string path = options.SocketPathOf(relay);
                await TryAsync($"registering {path}",
                    () => dataplane.RegisterSocketAsync(relay, path, mode, cancellationToken)).ConfigureAwait(false);
            }

            log($"Registered {dataplane.MaxRelays} vhost-user sockets {options.SocketPathOf(0)} .. {options.SocketPathOf(dataplane.MaxRelays - 1)} ({(options.VhostClientMode ? "client" : "server")} mode)");
        }

        foreach (StaticVf vf in options.StaticVfs)
        {
            if (vf.RelayId >= dataplane.MaxRelays)
            {
                log($"static VF {vf.Device} skipped: relay {vf.RelayId} is out of range (relays are 0..{dataplane.MaxRelays - 1})");
                continue;
            }

            bool ok = await TryAsync($"adding {vf.Device} to relay {vf.RelayId}",
                () => dataplane.AttachDeviceAsync(vf.RelayId, DeviceAttachment.Of(vf.Device.ToString()), cancellationToken)).ConfigureAwait(false);
            if (ok)
            {
                log($"Added {vf.Device} to relay {vf.RelayId}");
            }
        }
    }

    private async Task<bool> TryAsync(string what, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return true;
        }
        catch (DataplaneException e)
        {
            log($"{what} failed: {e.Message}");
            return false;
        }
    }
}
