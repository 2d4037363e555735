using System.Text.Json.Serialization;
using Vio4wd.Contracts.ControlApi;
using Vio4wd.Contracts.Stats;

namespace Vio4wd.Ctl;

/// <summary>
/// Serializers for the control API's answers, generated at build time: reflection-based ones
/// would be built at every start of this short-lived program. The daemon writes property names
/// as the C# names (its JSON-RPC formatter's default); reading ignores case.
/// </summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(IReadOnlyList<RelayView>))]
[JsonSerializable(typeof(IReadOnlyList<RelayStatsSample>))]
[JsonSerializable(typeof(IReadOnlyList<RejectedRequest>))]
[JsonSerializable(typeof(IReadOnlyList<int>))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(RelayView))]
[JsonSerializable(typeof(DaemonView))]
[JsonSerializable(typeof(HealthView))]
[JsonSerializable(typeof(ConfigView))]
[JsonSerializable(typeof(LogLevelView))]
[JsonSerializable(typeof(ReloadView))]
[JsonSerializable(typeof(TopView))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(int?))]
[JsonSerializable(typeof(bool))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
