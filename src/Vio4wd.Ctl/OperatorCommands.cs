using System.CommandLine;
using System.Text.Json;
using Vio4wd.Contracts;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Ctl.Output;

namespace Vio4wd.Ctl;

/// <summary>The operator's verbs beyond status: top, health, config, log-level and reload.</summary>
internal static class OperatorCommands
{
    // Clears the terminal and homes the cursor between refreshes, as top and watch do.
    private const string ClearScreen = "\u001b[H\u001b[2J";

    public static Command Top()
    {
        Option<string> output = Vio4wdCtl.OutputOption("table", "json");
        var interval = new Option<TimeSpan>("--interval", "-n")
        {
            Description = "Measuring window and refresh interval (default 2s)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(2),
            CustomParser = r => Vio4wdCtl.Parsed(r, Duration.Parse),
        };
        var once = new Option<bool>("--once") { Description = "Print one sample and exit (as -o json always does)" };
        var loadBars = new Option<bool>("--load-bars") { Description = "Per-CPU load bars, as the original monitor_load.py" };
        var coreMap = new Option<bool>("--core-map") { Description = "Print the relay-to-CPU map, as the original core_pinner.py --print-core-map, and exit" };
        var command = new Command("top", "Worker CPU load (measured busy share, packets/s, directions on each) and relay rates, refreshing")
        {
            output, interval, once, loadBars, coreMap,
        };
        command.SetAction((result, ct) => Vio4wdCtl.RunAsync(result, async (api, cancel) =>
        {
            int window = (int)Math.Clamp(result.GetValue(interval).TotalMilliseconds, 100, 60_000);
            bool json = result.GetValue(output) == "json";
            bool map = result.GetValue(coreMap);
            bool single = json || map || result.GetValue(once);
            bool terminal = !Console.IsOutputRedirected;
            do
            {
                TopView top = await api.TopAsync(map ? 0 : window).WaitAsync(cancel).ConfigureAwait(false);
                string text = json ? JsonSerializer.Serialize(top, Vio4wdCtl.Json)
                    : map ? TopText.CoreMapText(top)
                    : result.GetValue(loadBars) ? TopText.LoadBars(top)
                    : TopText.Format(top);
                await Console.Out.WriteLineAsync((single || !terminal ? string.Empty : ClearScreen) + text + (single || terminal ? string.Empty : "\n")).ConfigureAwait(false);
            }
            while (!single && !cancel.IsCancellationRequested);
            return 0;
        }, ct));
        return command;
    }

    public static Command Health()
    {
        Option<string> output = Vio4wdCtl.OutputOption("text", "json");
        var live = new Option<bool>("--live") { Description = "Liveness only (what /healthz answers): is the daemon working, whatever its peers do" };
        var command = new Command("health", "Liveness and readiness check by check (as /healthz and /readyz); exit 1 when not healthy") { output, live };
        command.SetAction((result, ct) => Vio4wdCtl.RunAsync(result, async (api, _) =>
        {
            HealthView health = await api.HealthAsync().ConfigureAwait(false);
            bool liveOnly = result.GetValue(live);
            await Console.Out.WriteLineAsync(result.GetValue(output) == "json" ? JsonSerializer.Serialize(health, Vio4wdCtl.Json) : OperatorText.Health(health, liveOnly)).ConfigureAwait(false);
            return health.Live && (liveOnly || health.Ready) ? 0 : 1;
        }, ct));
        return command;
    }

    public static Command Config()
    {
        Option<string> output = Vio4wdCtl.OutputOption("text", "json");
        var zmq = new Option<string?>("--zmq-ep", "--config-ep")
        {
            Description = $"Ask the ZMQ config service instead (as the original virtioforwarder_config.py; default endpoint {DefaultEndpoints.ZmqConfig})",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("config", "The running configuration with the origin of each value, and the live CPU map") { output, zmq };
        command.SetAction(async (result, ct) =>
        {
            if (result.GetResult(zmq) is not null)
            {
                return await ZmqConfigAsync(result.GetValue(zmq) ?? DefaultEndpoints.ZmqConfig, ct).ConfigureAwait(false);
            }

            return await ControlConfigAsync(result, output, ct).ConfigureAwait(false);
        });
        return command;
    }

    // As virtioforwarder_config.py: the ConfigResponse in protobuf text format.
    private static async Task<int> ZmqConfigAsync(string endpoint, CancellationToken cancellationToken)
    {
        try
        {
            ConfigResponse response = await ZmqAsk.RequestAsync(endpoint, new ConfigRequest(), ConfigResponse.Parser, "config", cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteAsync(TextFormat.Format(response)).ConfigureAwait(false);
            return response.Status == ConfigResponse.Types.Status.Ok ? 0 : 1;
        }
        catch (CtlException e)
        {
            await Console.Error.WriteLineAsync($"vio4wdctl: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static Task<int> ControlConfigAsync(ParseResult result, Option<string> output, CancellationToken cancellationToken) =>
        Vio4wdCtl.RunAsync(result, async api =>
        {
            ConfigView config = await api.ConfigAsync().ConfigureAwait(false);
            return result.GetValue(output) == "json" ? JsonSerializer.Serialize(config, Vio4wdCtl.Json) : OperatorText.Config(config);
        }, cancellationToken);

    public static Command LogLevel()
    {
        var level = new Argument<int?>("LEVEL")
        {
            Description = "0 (emergencies only) to 7 (debug), as VIRTIOFWD_LOG_LEVEL; none prints the level in force",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("log-level", "Print or set the daemon's log level (its own lines and DPDK's) until it restarts") { level };
        command.SetAction((result, ct) => Vio4wdCtl.RunAsync(result, async api =>
        {
            int? wanted = result.GetValue(level);
            return OperatorText.LogLevel(await api.LogLevelAsync(wanted).ConfigureAwait(false), wanted is not null);
        }, ct));
        return command;
    }

    public static Command Reload()
    {
        var command = new Command("reload", "Read the configuration file again (as SIGHUP) and print what changed; a file with errors changes nothing (exit 1)");
        command.SetAction((result, ct) => Vio4wdCtl.RunAsync(result, async (api, _) =>
        {
            ReloadView reload = await api.ReloadAsync().ConfigureAwait(false);
            await Console.Out.WriteLineAsync(OperatorText.Reload(reload)).ConfigureAwait(false);
            return reload.Applied ? 0 : 1;
        }, ct));
        return command;
    }
}
