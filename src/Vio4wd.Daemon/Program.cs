using Vio4wd.Configuration;
using Vio4wd.Daemon;
using Vio4wd.Daemon.Hosting;
using Vio4wd.Dataplane;
using Vio4wd.Core.Dataplane;

return await VirtioForwarder.MainAsync(args).ConfigureAwait(false);

namespace Vio4wd.Daemon
{
    internal static class VirtioForwarder
    {
        public const string Name = "virtio-forwarder";

        public static async Task<int> MainAsync(string[] args)
        {
            ConfigLimits limits;
            try
            {
                limits = new ConfigLimits(DpdkBuild.MaxRelays, DpdkBuild.MaxLcores);
            }
            catch (DataplaneException e)
            {
                await Console.Error.WriteLineAsync($"{Name}: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            LoadedConfiguration loaded = ConfigurationLoader.Load(args, limits, File.ReadAllText);
            if (loaded.Command.Help)
            {
                await Console.Out.WriteAsync(Usage.Text()).ConfigureAwait(false);
                return 0;
            }

            if (loaded.Command.Version)
            {
                await Console.Out.WriteLineAsync($"Virtio-forwarder version {Version()} ({DpdkBuild.Version})").ConfigureAwait(false);
                await Console.Out.WriteLineAsync($"Built with {DpdkBuild.Summary}").ConfigureAwait(false);
                return 0;
            }

            foreach (string warning in loaded.Diagnostics.Warnings)
            {
                await Console.Error.WriteLineAsync($"{Name}: warning: {warning}").ConfigureAwait(false);
            }

            if (loaded.Options is null)
            {
                foreach (string error in loaded.Diagnostics.Errors)
                {
                    await Console.Error.WriteLineAsync($"{Name}: {error}").ConfigureAwait(false);
                }

                await Console.Error.WriteLineAsync($"Try '{Name} --help' for more information.").ConfigureAwait(false);
                return 1;
            }

            if (loaded.Command.CheckConfig)
            {
                foreach (string warning in HostInspector.Check(loaded.Options))
                {
                    await Console.Error.WriteLineAsync($"{Name}: warning: {warning}").ConfigureAwait(false);
                }

                await Console.Out.WriteLineAsync($"# virtio-forwarder {Version()}, built with {DpdkBuild.Summary}").ConfigureAwait(false);
                await Console.Out.WriteAsync(EffectiveSettingsFormatter.Format(loaded.Options, loaded.Raw)).ConfigureAwait(false);
                return 0;
            }

            // Files and sockets we create get the modes we set, not an inherited umask's: none
            // is ever writable by group or others before we give it its mode.
            Core.Posix.Posix.SetFileCreationMask(0b000_010_010);
            return await DaemonHost.RunAsync(loaded, () => ConfigurationLoader.Load(args, limits, File.ReadAllText)).ConfigureAwait(false);
        }

        public static string Version() =>
            typeof(VirtioForwarder).Assembly
                .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>()
                .FirstOrDefault()?.InformationalVersion ?? "unknown";
    }
}
