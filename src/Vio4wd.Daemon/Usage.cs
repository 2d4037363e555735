using System.Text;
using Vio4wd.Configuration;

namespace Vio4wd.Daemon;

/// <summary>The --help text, generated from the setting catalog so it cannot drift from the parser.</summary>
internal static class Usage
{
    public static string Text()
    {
        var text = new StringBuilder();
        text.AppendLine("Usage: virtio-forwarder [OPTION]...");
        text.AppendLine("Virtio-forwarder daemon: forward packets between SR-IOV VFs (serviced by DPDK) and VirtIO network backend.");
        text.AppendLine();
        text.AppendLine("  --config FILE               read settings from an /etc/default/virtioforwarder-format file;");
        text.AppendLine("                              options given here override the file");
        text.AppendLine("  --check-config              validate the configuration, print the effective settings and exit");
        text.AppendLine("  -h, --help                  print this help and exit");
        text.AppendLine("  -v, --version               print the version and the DPDK version and exit");
        foreach (SettingDefinition s in SettingCatalog.All.Where(s => s.LongOption is not null))
        {
            string shortName = s.ShortOption is null ? "    " : $"-{s.ShortOption}, ";
            string value = s.Argument switch
            {
                ArgumentKind.Required => $" {s.ValueName}",
                ArgumentKind.Optional => $"[={s.ValueName}]",
                _ => string.Empty,
            };
            string left = $"  {shortName}--{s.LongOption}{value}";
            string variable = s.Variable is null ? string.Empty : $" [{s.Variable}]";
            text.AppendLine(left.Length < 30 ? $"{left,-30}{s.Help}{variable}" : $"{left}\n{string.Empty,-30}{s.Help}{variable}");
        }

        return text.ToString();
    }
}
