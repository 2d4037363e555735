using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts;
using Vio4wd.Contracts.Stats;
using Vio4wd.Ctl.Output;

namespace Vio4wd.Ctl;

/// <summary>vio4wdctl: the operator's view of a running virtio-forwarder, and its few levers.</summary>
public static class Vio4wdCtl
{
    private const string Name = "vio4wdctl";

    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(250);

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        // Read by people and scripts, never embedded in HTML: "+" and "'" stay as they are.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    // The same field names as -o json (camelCase), for kubectl-style -o yaml.
    private static readonly YamlDotNet.Serialization.ISerializer Yaml = new YamlDotNet.Serialization.SerializerBuilder()
        .WithNamingConvention(YamlDotNet.Serialization.NamingConventions.CamelCaseNamingConvention.Instance)
        .DisableAliases()
        .Build();

    private static readonly Option<string?> ControlSocket = new("--control-sock")
    {
        Description = $"The daemon's control socket (default ${ControlClient.SocketVariable}, else VIRTIOFWD_CONTROL_SOCK of the --config file, else {ControlClient.DefaultSocket})",
        Recursive = true,
    };

    private static readonly Option<string?> ConfigFile = new("--config")
    {
        Description = $"The daemon's configuration file, read for VIRTIOFWD_CONTROL_SOCK (default {SocketLocator.DefaultConfigFile})",
        Recursive = true,
    };

    public static Task<int> Main(string[] args) => Commands().Parse(args).InvokeAsync();

    private static RootCommand Commands()
    {
        var root = new RootCommand("Status and operations of a running virtio-forwarder (vio4wd).") { ControlSocket, ConfigFile };
        root.Add(Status());
        root.Add(Daemon());
        root.Add(Describe());
        root.Add(Wait());
        root.Add(Stats());
        root.Add(Pin());
        root.Add(OperatorCommands.Top());
        root.Add(OperatorCommands.Health());
        root.Add(OperatorCommands.Config());
        root.Add(OperatorCommands.LogLevel());
        root.Add(OperatorCommands.Reload());
        root.Add(PortCommand.Create());
        root.Add(Version());
        return root;
    }

    private static Command Status()
    {
        Option<string> output = OutputOption("table", "json", "yaml", "wide", "name");
        var watch = new Option<bool>("--watch", "-w") { Description = "After the first listing, print it again each time a relay changes (Ctrl-C ends)" };
        var command = new Command("status", "Relays with their source, device, socket, mode and readiness") { output, watch };
        command.SetAction((result, ct) => RunAsync(result, async (api, cancel) =>
        {
            string format = result.GetValue(output)!;
            string? last = null;
            do
            {
                IReadOnlyList<RelayView> relays = await api.StatusAsync().WaitAsync(cancel).ConfigureAwait(false);
                // Counters and ages move all the time; a change is a relay's spec, readiness or a condition.
                string state = string.Join('\n', relays.Select(r => $"{r.Id} {r.Source} {r.Device} {r.Socket} {r.Mode} {r.Ready} "
                    + string.Join(',', r.Conditions.Select(c => $"{c.Type}={c.Status}/{c.Reason}"))));
                if (state != last)
                {
                    await Console.Out.WriteLineAsync((last is null ? string.Empty : "\n") + await StatusTextAsync(api, relays, format, watching: result.GetValue(watch)).ConfigureAwait(false)).ConfigureAwait(false);
                    last = state;
                }

                if (result.GetValue(watch))
                {
                    await Task.Delay(WatchInterval, cancel).ConfigureAwait(false);
                }
            }
            while (result.GetValue(watch));
            return 0;
        }, ct));
        return command;
    }

    private static async Task<string> StatusTextAsync(IControlApi api, IReadOnlyList<RelayView> relays, string format, bool watching)
    {
        switch (format)
        {
            case "json":
                return JsonSerializer.Serialize(relays, Json);
            case "yaml":
                return Yaml.Serialize(relays).TrimEnd('\n');
            case "name":
                return string.Join('\n', relays.Select(r => $"relay/{r.Id.ToString(CultureInfo.InvariantCulture)}"));
            case "wide":
                return StatusTable.FormatWide(relays, DateTimeOffset.UtcNow);
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (watching)
        {
            return StatusTable.Format(relays, now);
        }

        IReadOnlyList<RejectedRequest> rejected = await api.RejectedAsync().ConfigureAwait(false);
        DaemonView daemon = await api.DaemonAsync().ConfigureAwait(false);
        return StatusTable.Format(relays, now)
            + (rejected.Count == 0 ? string.Empty : "\n\n" + StatusTable.Format(rejected))
            + "\n\n" + StatusTable.Format(daemon, now);
    }

    private static Command Daemon()
    {
        Option<string> output = OutputOption("table", "json");
        var command = new Command("daemon", "The daemon's parts (sources, reconciler, servers): state, since when, restarts, last error") { output };
        command.SetAction((result, ct) => RunAsync(result, async api =>
        {
            DaemonView daemon = await api.DaemonAsync().ConfigureAwait(false);
            return result.GetValue(output) == "json" ? JsonSerializer.Serialize(daemon, Json) : StatusTable.Format(daemon, DateTimeOffset.UtcNow);
        }, ct));
        return command;
    }

    private static Command Describe()
    {
        Argument<int> relay = RelayArgument();
        Option<string> output = OutputOption("text", "json");
        var command = new Command("describe", "Conditions, events, counters, CPUs, NUMA node and last change (how long each step took) of one relay") { relay, output };
        command.SetAction((result, ct) => RunAsync(result, async api =>
        {
            RelayView view = Find(await api.StatusAsync().ConfigureAwait(false), result.GetValue(relay));
            return result.GetValue(output) == "json" ? JsonSerializer.Serialize(view, Json) : DescribeText.Format(view, DateTimeOffset.UtcNow).TrimEnd('\n');
        }, ct));
        return command;
    }

    private static Command Wait()
    {
        var relay = new Argument<int?>("RELAY") { Description = "Relay id", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every relay the daemon has (as kubectl wait --all)" };
        var condition = new Option<WaitCondition>("--for")
        {
            Description = "ready, or condition=TYPE[=True|False|Unknown] (TYPE: Ready, DeviceReady, VhostConnected)",
            DefaultValueFactory = _ => new WaitCondition("Ready", "True"),
            CustomParser = r => Parsed(r, WaitCondition.Parse),
        };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait (30s, 500ms, 2m; default 30s)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
            CustomParser = r => Parsed(r, Duration.Parse),
        };
        var command = new Command("wait", "Wait until a relay (or --all) is ready or meets a condition; exit 1 on timeout") { relay, all, condition, timeout };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(relay) is null) == !r.GetValue(all))
            {
                r.AddError("give a RELAY or --all");
            }
        });
        command.SetAction((result, ct) => RunAsync(result, async api =>
        {
            int? id = result.GetValue(relay);
            WaitCondition want = result.GetValue(condition)!;
            DateTimeOffset deadline = DateTimeOffset.UtcNow + result.GetValue(timeout);
            while (true)
            {
                IReadOnlyList<RelayView> relays = await api.StatusAsync().ConfigureAwait(false);
                RelayView[] watched = [.. relays.Where(r => id is null || r.Id == id)];
                RelayView[] waiting = [.. watched.Where(r => !want.HoldsFor(r))];
                if (watched.Length > 0 && waiting.Length == 0)
                {
                    string met = want.Type == "Ready" ? "ready" : "condition met";
                    return id is { } one ? $"relay {one} {met}" : $"all {watched.Length} relays {met}";
                }

                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new CtlException(id is { } one
                        ? $"timed out waiting for relay {one} to be {want}: {Why(watched.FirstOrDefault(), want)}"
                        : watched.Length == 0 ? $"timed out waiting for relays to be {want}: the daemon has none"
                        : $"timed out waiting for relays to be {want}: {waiting.Length} of {watched.Length} are not, e.g. relay {waiting[0].Id}: {Why(waiting[0], want)}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            }
        }, ct));
        return command;

        static string Why(RelayView? view, WaitCondition want)
        {
            ConditionView? now = view?.Conditions.FirstOrDefault(c => c.Type.Equals(want.Type, StringComparison.OrdinalIgnoreCase));
            return view is null ? "the daemon has no such relay" : now is null ? "no such condition" : $"{now.Type}={now.Status} ({now.Reason}: {now.Message})";
        }
    }

    private static Command Stats()
    {
        Option<string> output = OutputOption("table", "json", "flat");
        var delay = new Option<int>("--delay") { Description = "Rate window in milliseconds (default 200)", DefaultValueFactory = _ => 200 };
        var inactive = new Option<bool>("--include-inactive") { Description = "Also relays that do not have both sides up" };
        var suppressZero = new Option<bool>("--suppress-zero", "-z") { Description = "flat: leave out counters that are 0" };
        var relays = new Argument<int[]>("RELAY") { Description = "Only these relays (default: all)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("stats", "Packet and byte counters and rates per relay and direction; -o flat prints the original's relay_N.field=value lines")
        {
            relays, output, delay, inactive, suppressZero,
        };
        command.SetAction((result, ct) => RunAsync(result, async api =>
        {
            int[] only = result.GetValue(relays) ?? [];
            IReadOnlyList<RelayStatsSample> samples = [.. (await api.StatsAsync(result.GetValue(delay), result.GetValue(inactive)).ConfigureAwait(false))
                .Where(s => only.Length == 0 || only.Contains(s.Id))];
            return result.GetValue(output) switch
            {
                "json" => JsonSerializer.Serialize(samples, Json),
                "flat" => FlatStatsFormatter.Format(samples, result.GetValue(suppressZero)).TrimEnd('\n'),
                _ => StatsTable.Format(samples),
            };
        }, ct));
        return command;
    }

    private static Command Pin()
    {
        Argument<int> relay = RelayArgument();
        var cpus = new Argument<int[]>("CPUS")
        {
            Description = "CPU for both directions, or VF-to-VM,VM-to-VF; 'reset' returns to the configured pins",
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = r => Parsed(r, ParseCpus),
        };
        var command = new Command("pin", "Move a relay's directions to worker CPUs") { relay, cpus };
        command.SetAction((result, ct) => RunAsync(result, async api =>
        {
            RelayView view = await api.PinAsync(result.GetValue(relay), result.GetValue(cpus)!).ConfigureAwait(false);
            return $"relay {view.Id}: VF to VM on CPU {view.Cpus.VfToVm.Cpu?.ToString(CultureInfo.InvariantCulture) ?? "-"}, "
                + $"VM to VF on CPU {view.Cpus.VmToVf.Cpu?.ToString(CultureInfo.InvariantCulture) ?? "-"}";
        }, ct));
        return command;
    }

    private static Command Version()
    {
        var command = new Command("version", "Versions of vio4wdctl and of the daemon");
        command.SetAction((result, ct) => RunAsync(result, async api =>
            $"vio4wdctl {typeof(Vio4wdCtl).Assembly.GetName().Version}; daemon {await api.VersionAsync().ConfigureAwait(false)}", ct));
        return command;
    }

    /// <summary>Runs a request and prints its answer: exit 0, 1 for a refused request, 3 when the daemon cannot be reached.</summary>
    internal static Task<int> RunAsync(ParseResult result, Func<IControlApi, Task<string>> action, CancellationToken cancellationToken) =>
        RunAsync(result, async (api, _) =>
        {
            await Console.Out.WriteLineAsync(await action(api).ConfigureAwait(false)).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>Runs a conversation with the daemon that prints as it goes and picks its own exit status.</summary>
    internal static async Task<int> RunAsync(ParseResult result, Func<IControlApi, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            string socket;
            try
            {
                socket = SocketLocator.Locate(result.GetValue(ControlSocket), result.GetValue(ConfigFile));
            }
            catch (IOException e)
            {
                throw new CtlException(e.Message);
            }

            using ControlClient client = await ControlClient.ConnectAsync(socket, cancellationToken).ConfigureAwait(false);
            return await action(client.Api, cancellationToken).ConfigureAwait(false);
        }
        catch (DaemonUnreachableException e)
        {
            return await FailAsync(e.Message, DaemonUnreachableException.ExitCode).ConfigureAwait(false);
        }
        catch (CtlException e)
        {
            return await FailAsync(e.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C ends a watch or top: that is how they are meant to end.
            return 0;
        }
    }

    private static RelayView Find(IReadOnlyList<RelayView> relays, int id) =>
        relays.FirstOrDefault(r => r.Id == id) ?? throw new CtlException($"relay {id} not found (see vio4wdctl status)");

    private static Argument<int> RelayArgument() => new("RELAY") { Description = "Relay id" };

    internal static Option<string> OutputOption(params string[] formats)
    {
        var option = new Option<string>("--output", "-o") { Description = $"Output format: {string.Join(", ", formats)}", DefaultValueFactory = _ => formats[0] };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    private static int[] ParseCpus(string text) =>
        text == "reset" ? []
        : [.. text.Split(',').Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu)
            ? cpu : throw new FormatException($"'{text}' is not CPU, CPU,CPU or reset"))];

    internal static T? Parsed<T>(System.CommandLine.Parsing.SymbolResult result, Func<string, T> parse)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        try
        {
            return parse(text);
        }
        catch (FormatException e)
        {
            result.AddError(e.Message);
            return default;
        }
    }

    private static async Task<int> FailAsync(string message, int exitCode = 1)
    {
        await Console.Error.WriteLineAsync($"{Name}: {message}").ConfigureAwait(false);
        return exitCode;
    }
}
