using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using StreamJsonRpc;
using Vio4wd.Core.ControlApi;

namespace Vio4wd.Ctl;

/// <summary>vio4wdctl: the operator's view of a running virtio-forwarder.</summary>
public static class Vio4wdCtl
{
    private const string Name = "vio4wdctl";
    private const string DefaultSocket = "/run/virtio-forwarder/control.sock";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static async Task<int> Main(string[] args)
    {
        var rest = new List<string>(args);
        string socket = TakeOption(rest, "--control-sock") ?? Environment.GetEnvironmentVariable("VIO4WD_CONTROL_SOCK") ?? DefaultSocket;
        string output = TakeOption(rest, "-o") ?? TakeOption(rest, "--output") ?? "table";
        if (rest.Count == 0 || rest[0] is "-h" or "--help" or "help")
        {
            await Console.Out.WriteAsync(Usage).ConfigureAwait(false);
            return rest.Count == 0 ? 1 : 0;
        }

        if (output is not ("table" or "json"))
        {
            return await FailAsync($"unknown output format '{output}' (use table or json)").ConfigureAwait(false);
        }

        IControlApi api;
        Socket connection;
        try
        {
            connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket)).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            string why = e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.ConnectionRefused => "nothing is listening there (is virtio-forwarder running?)",
                SocketError.AccessDenied => "permission denied (run as root or as a member of the socket's group)",
                _ when !File.Exists(socket) => "no such socket (is virtio-forwarder running? --control-sock or VIO4WD_CONTROL_SOCK point elsewhere)",
                _ => e.Message,
            };
            return await FailAsync($"cannot reach the daemon at {socket}: {why}").ConfigureAwait(false);
        }

        await using var stream = new NetworkStream(connection, ownsSocket: true);
        using var rpc = JsonRpc.Attach(stream);
        api = rpc.Attach<IControlApi>();
        try
        {
            switch (rest[0])
            {
                case "status":
                    IReadOnlyList<RelayView> relays = await api.StatusAsync().ConfigureAwait(false);
                    await Console.Out.WriteLineAsync(output == "json" ? JsonSerializer.Serialize(relays, Json) : Table(relays)).ConfigureAwait(false);
                    return 0;
                case "version":
                    await Console.Out.WriteLineAsync($"vio4wdctl {typeof(Vio4wdCtl).Assembly.GetName().Version}; daemon {await api.VersionAsync().ConfigureAwait(false)}").ConfigureAwait(false);
                    return 0;
                default:
                    return await FailAsync($"unknown command '{rest[0]}'").ConfigureAwait(false);
            }
        }
        catch (RemoteRpcException e)
        {
            return await FailAsync($"the daemon failed the request: {e.Message}").ConfigureAwait(false);
        }
    }

    private const string Usage = """
        Usage: vio4wdctl [--control-sock PATH] COMMAND
          status [-o table|json]   relays with their source, device, socket, mode and readiness
          version                  versions of vio4wdctl and of the daemon
        The control socket defaults to /run/virtio-forwarder/control.sock (or $VIO4WD_CONTROL_SOCK).

        """;

    private static readonly string[] TableHeader = ["RELAY", "SOURCE", "DEVICE", "SOCKET", "MODE", "READY", "REASON"];

    private static string Table(IReadOnlyList<RelayView> relays)
    {
        var rows = new List<string[]> { TableHeader };
        rows.AddRange(relays.Select(r => new[]
        {
            r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Source ?? "-", r.Device ?? "-", r.Socket ?? "-", r.Mode ?? "-",
            r.Ready ? "True" : "False",
            r.Conditions.FirstOrDefault(c => c.Type == "Ready")?.Reason ?? "-",
        }));
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length))];
        return string.Join('\n', rows.Select(row => string.Join("   ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()));
    }

    private static string? TakeOption(List<string> args, string name)
    {
        int i = args.FindIndex(a => a == name || a.StartsWith(name + "=", StringComparison.Ordinal));
        if (i < 0)
        {
            return null;
        }

        string value;
        if (args[i].Contains('=', StringComparison.Ordinal))
        {
            value = args[i][(name.Length + 1)..];
            args.RemoveAt(i);
        }
        else if (i + 1 < args.Count)
        {
            value = args[i + 1];
            args.RemoveRange(i, 2);
        }
        else
        {
            value = string.Empty;
            args.RemoveAt(i);
        }

        return value;
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync($"{Name}: {message}").ConfigureAwait(false);
        return 1;
    }
}
