using System.Text.Json.Serialization.Metadata;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts.Stats;

namespace Vio4wd.Ctl;

/// <summary><see cref="IControlApi"/> over the daemon's control connection, one call per method.</summary>
internal sealed class ControlApiClient(JsonRpcConnection rpc) : IControlApi
{
    private static ControlJsonContext Types => ControlJsonContext.Default;

    public Task<IReadOnlyList<RelayView>> StatusAsync() => Call(nameof(StatusAsync), Types.IReadOnlyListRelayView);

    public Task<IReadOnlyList<RelayStatsSample>> StatsAsync(int delayMs, bool includeInactive) =>
        Call(nameof(StatsAsync), Types.IReadOnlyListRelayStatsSample, delayMs, includeInactive);

    public Task<RelayView> PinAsync(int relay, IReadOnlyList<int> cpus) => Call(nameof(PinAsync), Types.RelayView, relay, cpus);

    public Task<IReadOnlyList<RejectedRequest>> RejectedAsync() => Call(nameof(RejectedAsync), Types.IReadOnlyListRejectedRequest);

    public Task<string> VersionAsync() => Call(nameof(VersionAsync), Types.String);

    public Task<DaemonView> DaemonAsync() => Call(nameof(DaemonAsync), Types.DaemonView);

    public Task<HealthView> HealthAsync() => Call(nameof(HealthAsync), Types.HealthView);

    public Task<ConfigView> ConfigAsync() => Call(nameof(ConfigAsync), Types.ConfigView);

    public Task<LogLevelView> LogLevelAsync(int? level) => Call(nameof(LogLevelAsync), Types.LogLevelView, level);

    public Task<ReloadView> ReloadAsync() => Call(nameof(ReloadAsync), Types.ReloadView);

    public Task<TopView> TopAsync(int delayMs) => Call(nameof(TopAsync), Types.TopView, delayMs);

    private Task<T> Call<T>(string method, JsonTypeInfo<T> result, params object?[] arguments) => rpc.InvokeAsync(method, result, arguments);
}
