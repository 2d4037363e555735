using Vio4wd.Configuration;

namespace Vio4wd.Ctl;

/// <summary>
/// Where the daemon's control socket is, as an operator expects it to be found: --control-sock,
/// else $VIO4WD_CONTROL_SOCK, else VIRTIOFWD_CONTROL_SOCK of the daemon's configuration file
/// (--config, or /etc/default/virtioforwarder when it exists), else the built-in default. So a
/// host that moved the socket in its config file needs no option on every command.
/// </summary>
internal static class SocketLocator
{
    public const string DefaultConfigFile = "/etc/default/virtioforwarder";
    private const string Variable = "VIRTIOFWD_CONTROL_SOCK";

    /// <exception cref="IOException">The --config file given cannot be read.</exception>
    public static string Locate(string? option, string? configFile)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return option;
        }

        if (Environment.GetEnvironmentVariable(ControlClient.SocketVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        string file = configFile ?? DefaultConfigFile;
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (configFile is null && e is IOException or UnauthorizedAccessException)
        {
            // No config file here (a container, a source build): the default it is.
            return ControlClient.DefaultSocket;
        }
        catch (Exception e) when (e is UnauthorizedAccessException)
        {
            throw new IOException($"--config {file}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new IOException($"--config {file}: {e.Message}", e);
        }

        var diagnostics = new ConfigDiagnostics();
        EnvFile parsed = EnvFileParser.Parse(text, file, diagnostics);
        // The daemon refuses a file with errors; its socket setting may still be the one in force.
        return parsed.Assignments.LastOrDefault(a => a.Name == Variable && a.Values.Count > 0) is { } setting && setting.Values[^1].Length > 0
            ? setting.Values[^1]
            : ControlClient.DefaultSocket;
    }
}
