using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Vio4wd.Logging;
using Vio4wd.Zmq;
using Vio4wd.Contracts.Protocol;
using Vio4wd.Contracts;
using Vio4wd.Contracts.Stats;

namespace Vio4wd.CoreScheduler;

/// <summary>
/// vio4wd-core-scheduler: every poll interval it measures the relays' rates through the daemon's
/// stats service, plans a balanced placement of their directions per NUMA node and, when that is
/// better by more than the sensitivity, moves them through the core-scheduler service.
/// </summary>
public static partial class Vio4wdCoreScheduler
{
    public const string Identity = "vio4wd_core_scheduler";
    private const uint StatsDelayMs = 200;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static Task<int> Main(string[] args)
    {
        var stats = new Option<string>("--stats-ep") { Description = "The daemon's stats endpoint", DefaultValueFactory = _ => DefaultEndpoints.ZmqStats };
        var sched = new Option<string>("--sched-ep") { Description = "The daemon's core-scheduler endpoint", DefaultValueFactory = _ => DefaultEndpoints.ZmqCoreSched };
        var poll = new Option<double>("--poll-interval") { Description = "Seconds between rebalancing rounds (default 5.0)", DefaultValueFactory = _ => 5.0 };
        var level = new Option<int>("--loglevel") { Description = "Log threshold 0-7 (default 7)", DefaultValueFactory = _ => 7 };
        var sensitivity = new Option<double>("--sensitivity") { Description = "How much better a plan must be to be applied; smaller is more sensitive (default 0.25)", DefaultValueFactory = _ => 0.25 };
        var global = new Option<bool>("--global-numa-opt") { Description = "Do not consider NUMA affinities" };
        var console = new Option<bool>("--console") { Description = "Log to stdout instead of syslog (vio4wd)" };
        var model = new Option<LoadModel>("--load-model")
        {
            Description = "measured: the workers' busy cycles split by packet rates (vio4wd, default); original: the original's traffic model",
            DefaultValueFactory = _ => LoadModel.Measured,
        };
        var root = new RootCommand("The virtio-forwarder load balancer (vio4wd).") { stats, sched, poll, level, sensitivity, global, console, model };
        root.SetAction(async (result, ct) =>
        {
            int threshold = Math.Clamp(result.GetValue(level), 0, 7);
            ILogSink sink = result.GetValue(console)
                ? new ConsoleSink(Console.Out, TimeProvider.System)
                : SyslogSink.FromEnvironment(Identity, TimeProvider.System, SyslogSink.FacilityUser);
            using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new OriginalLoggerProvider(sink, threshold)));
            ILogger logger = loggers.CreateLogger("core_scheduler");
            double margin = result.GetValue(sensitivity);
            if (margin < 0)
            {
                LogBadSensitivity(logger, margin);
                margin = 0.25;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);
            var scheduler = new Scheduler(result.GetValue(stats)!, result.GetValue(sched)!, margin, result.GetValue(global), result.GetValue(model), logger);
            await scheduler.RunAsync(TimeSpan.FromSeconds(Math.Max(result.GetValue(poll), 0.1)), stop.Token).ConfigureAwait(false);
            return 0;
        });
        return root.Parse(args).InvokeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sensitivity {Value} is negative; using 0.25")]
    private static partial void LogBadSensitivity(ILogger logger, double value);
}

/// <summary>The rebalancing loop against one daemon.</summary>
internal sealed partial class Scheduler(string statsEndpoint, string schedEndpoint, double sensitivity, bool globalNuma, LoadModel model, ILogger logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // Each worker's NUMA node as the daemon reports it (lcores may be mapped to other CPUs); null
    // from a daemon that does not report worker loads: sysfs is asked instead.
    private IReadOnlyDictionary<int, int>? _workerNodes;
    private bool _saidNoWorkerLoads;

    // Measured mode: NUMA groups whose last round already found a plan worth applying. A move
    // needs two rounds in a row that call for it, so one noisy window (a worker descheduled by
    // another process) does not move relays back and forth.
    private readonly HashSet<int> _confirming = [];

    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<int> workers = await WorkersAsync(interval, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<RelayLoad> relays = await MeasureAsync(interval, cancellationToken).ConfigureAwait(false);
            string map = CoreMap.Format(workers, LoadBalancer.Current(relays));
            LogAffinities(logger, map);
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                relays = await MeasureAsync(interval, cancellationToken).ConfigureAwait(false);
                if (relays.Count > 0 && await RebalanceAsync(workers, relays, cancellationToken).ConfigureAwait(false))
                {
                    string moved = CoreMap.Format(workers, LoadBalancer.Current(await MeasureAsync(interval, cancellationToken).ConfigureAwait(false)));
                    LogNewMap(logger, moved);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> RebalanceAsync(IReadOnlyList<int> workers, IReadOnlyList<RelayLoad> relays, CancellationToken cancellationToken)
    {
        bool changed = false;
        foreach ((int node, IReadOnlyList<int> nodeWorkers, IReadOnlyList<RelayLoad> group) in Groups(workers, relays))
        {
            IReadOnlyList<Placement> plan = LoadBalancer.Plan(group, nodeWorkers);
            double planned = LoadBalancer.Spread(group, plan, nodeWorkers);
            double current = LoadBalancer.Spread(group, LoadBalancer.Current(group), nodeWorkers);
            if (!LoadBalancer.WorthApplying(current, planned, sensitivity))
            {
                _confirming.Remove(node);
                LogBalanced(logger);
                continue;
            }

            if (model == LoadModel.Measured && _confirming.Add(node))
            {
                LogConfirming(logger, node);
                continue;
            }

            _confirming.Remove(node);

            LogMigrating(logger, node);
            var update = new CoreSchedRequest { Op = CoreSchedRequest.Types.Op.Update };
            update.RelayCpuMap.AddRange(plan.Select(p => new CoreSchedRequest.Types.RelayCPU { RelayNumber = p.Relay, Vf2VirtioCpu = p.VfToVmCpu, Virtio2VfCpu = p.VmToVfCpu }));
            CoreSchedResponse? response = await AskAsync(schedEndpoint, "core scheduler", update, CoreSchedResponse.Parser, Timeout, cancellationToken).ConfigureAwait(false);
            string outcome = response?.Status.ToString().ToUpperInvariant() ?? "no response";
            LogResponse(logger, outcome);
            changed |= response?.Status == CoreSchedResponse.Types.Status.Ok;
        }

        return changed;
    }

    // Relays grouped by their mempool's NUMA node with that node's workers; one group with --global-numa-opt.
    private IEnumerable<(int Node, IReadOnlyList<int> Workers, IReadOnlyList<RelayLoad> Relays)> Groups(IReadOnlyList<int> workers, IReadOnlyList<RelayLoad> relays)
    {
        if (globalNuma)
        {
            yield return (-1, workers, relays);
            yield break;
        }

        IReadOnlyDictionary<int, IReadOnlyList<int>> nodes = _workerNodes is { } reported
            ? workers.GroupBy(w => reported.GetValueOrDefault(w)).ToDictionary(g => g.Key, g => (IReadOnlyList<int>)[.. g])
            : NumaNodes.WorkersByNode(workers);
        foreach (IGrouping<int, RelayLoad> group in relays.GroupBy(r => r.NumaNode))
        {
            if (nodes.TryGetValue(group.Key, out IReadOnlyList<int>? nodeWorkers))
            {
                yield return (group.Key, nodeWorkers, [.. group]);
            }
            else
            {
                LogBadNode(logger, group.Key);
            }
        }
    }

    private async Task<IReadOnlyList<int>> WorkersAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var request = new CoreSchedRequest { Op = CoreSchedRequest.Types.Op.GetEalCores };
        while (true)
        {
            CoreSchedResponse? response = await AskAsync(schedEndpoint, "core scheduler", request, CoreSchedResponse.Parser, Timeout, cancellationToken).ConfigureAwait(false);
            if (response?.Status == CoreSchedResponse.Types.Status.Ok)
            {
                return [.. response.EalCores.Select(c => (int)c)];
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    // Rates over 200 ms, as the original measured. The original model takes the relays with both
    // sides up; the measured one every relay with a direction running (a VF flooding a relay whose
    // VM is away costs its worker all the same).
    private async Task<IReadOnlyList<RelayLoad>> MeasureAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        // Busy cycles over 200 ms swing with the host's scheduling; measured loads take up to a second.
        uint window = model == LoadModel.Measured ? (uint)Math.Clamp(interval.TotalMilliseconds, 200, 1000) : 200;
        var request = new StatsRequest { IncludeInactive = model == LoadModel.Measured, Delay = window };
        while (true)
        {
            StatsResponse? response = await AskAsync(statsEndpoint, "stats", request, StatsResponse.Parser, Timeout + TimeSpan.FromMilliseconds(window), cancellationToken).ConfigureAwait(false);
            if (response?.Status == StatsResponse.Types.Status.Ok)
            {
                return LoadsOf(response);
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private IReadOnlyList<RelayLoad> LoadsOf(StatsResponse response)
    {
        static int? VmToVfCpu(RelayState r) => r.Cpu?.HasVmToVf == true ? r.Cpu.VmToVf : null;
        static int? VfToVmCpu(RelayState r) => r.Cpu?.HasVfToVm == true ? r.Cpu.VfToVm : null;
        if (model == LoadModel.Measured && response.Worker.Count > 0)
        {
            _workerNodes = response.Worker.ToDictionary(w => (int)w.Cpu, w => (int)w.NumaNode);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                string shares = string.Join(' ', response.Worker.Select(w => string.Create(CultureInfo.InvariantCulture, $"CPU{w.Cpu}={w.BusyRatio * 100:0.0}%")));
                LogMeasured(logger, shares);
            }
            RelayRates[] rates = [.. response.Relay.Where(r => VmToVfCpu(r) is not null || VfToVmCpu(r) is not null).Select(r => new RelayRates(
                (int)r.Id, (int)r.SocketId, r.VmToVf.PktRateRxFromVm, r.VfToVm.PktRateRxFromVf, VmToVfCpu(r), VfToVmCpu(r)))];
            return LoadBalancer.Measured(rates, response.Worker.ToDictionary(w => (int)w.Cpu, w => w.BusyRatio));
        }

        if (model == LoadModel.Measured && !_saidNoWorkerLoads)
        {
            _saidNoWorkerLoads = true;
            LogNoWorkerLoads(logger);
        }

        return [.. response.Relay.Where(r => r.Active).Select(r => new RelayLoad(
            (int)r.Id,
            (int)r.SocketId,
            LoadBalancer.VmToVfLoad(r.VmToVf.PktRateRxFromVm, r.VmToVf.PktRateTxToVf, r.VmToVf.ByteRateRxFromVm, r.VmToVf.ByteRateTxToVf),
            LoadBalancer.VfToVmLoad(r.VfToVm.PktRateRxFromVf, r.VfToVm.PktRateTxToVm, r.VfToVm.ByteRateRxFromVf, r.VfToVm.ByteRateTxToVm),
            VmToVfCpu(r),
            VfToVmCpu(r)))];
    }

    private async Task<T?> AskAsync<T>(string endpoint, string name, IMessage request, MessageParser<T> parser, TimeSpan timeout, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        byte[]? reply = await Task.Run(() => ZmqClient.Request(endpoint, request.ToByteArray(), timeout), cancellationToken).ConfigureAwait(false);
        if (reply is null)
        {
            LogNoResponse(logger, name);
            return null;
        }

        try
        {
            return parser.ParseFrom(reply);
        }
        catch (InvalidProtocolBufferException e)
        {
            LogBadResponse(logger, name, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker cores affinities:\n{Map}")]
    private static partial void LogAffinities(ILogger logger, string map);

    [LoggerMessage(Level = LogLevel.Debug, Message = "New worker core mapping:\n{Map}")]
    private static partial void LogNewMap(ILogger logger, string map);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Measured worker busy shares: {Shares}")]
    private static partial void LogMeasured(ILogger logger, string shares);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The daemon reports no worker loads (an older daemon?); balancing on the original's traffic model")]
    private static partial void LogNoWorkerLoads(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workers on NUMA {Node} look unbalanced; moving if the next round agrees")]
    private static partial void LogConfirming(ILogger logger, int node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker cores still sufficiently balanced.")]
    private static partial void LogBalanced(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrating workers on NUMA {Node}...")]
    private static partial void LogMigrating(ILogger logger, int node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduler response: {Outcome}")]
    private static partial void LogResponse(ILogger logger, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Node} is not a valid socket id!")]
    private static partial void LogBadNode(ILogger logger, int node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No response from {Name} server. Reconnecting...")]
    private static partial void LogNoResponse(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bad response from {Name} server: {Error}")]
    private static partial void LogBadResponse(ILogger logger, string name, string error);
}

/// <summary>Which worker CPUs belong to which NUMA node (sysfs; one node 0 when sysfs says nothing).</summary>
internal static class NumaNodes
{
    public static IReadOnlyDictionary<int, IReadOnlyList<int>> WorkersByNode(IReadOnlyList<int> workers, string sysfs = "/sys/devices/system/node")
    {
        var nodes = new Dictionary<int, IReadOnlyList<int>>();
        if (Directory.Exists(sysfs))
        {
            foreach (string dir in Directory.GetDirectories(sysfs, "node*"))
            {
                if (int.TryParse(Path.GetFileName(dir)[4..], NumberStyles.None, CultureInfo.InvariantCulture, out int node)
                    && File.Exists(Path.Combine(dir, "cpulist")))
                {
                    HashSet<int> cpus = CpuList(File.ReadAllText(Path.Combine(dir, "cpulist")));
                    int[] nodeWorkers = [.. workers.Where(cpus.Contains)];
                    if (nodeWorkers.Length > 0)
                    {
                        nodes[node] = nodeWorkers;
                    }
                }
            }
        }

        return nodes.Count > 0 ? nodes : new Dictionary<int, IReadOnlyList<int>> { [0] = workers };
    }

    private static HashSet<int> CpuList(string text)
    {
        var cpus = new HashSet<int>();
        foreach (string part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            if (int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first))
            {
                int last = range.Length > 1 && int.TryParse(range[1], NumberStyles.None, CultureInfo.InvariantCulture, out int l) ? l : first;
                for (int cpu = first; cpu <= last; cpu++)
                {
                    cpus.Add(cpu);
                }
            }
        }

        return cpus;
    }
}
