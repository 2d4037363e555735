using Vio4wd.Contracts.ControlApi;
using Vio4wd.Core.Health;

namespace Vio4wd.Core.ControlApi;

/// <summary>
/// What the control API needs from the daemon's host for the operator's verbs: health, the
/// running configuration, the log level and a reload.
/// </summary>
/// <param name="Settings">The configuration file in force and its effective settings with their origins.</param>
/// <param name="LogLevel">Reads the log level (0-7).</param>
/// <param name="SetLogLevel">Sets the log level of the daemon's lines and of DPDK's.</param>
/// <param name="Reload">Reads the configuration again, as SIGHUP, and says what changed.</param>
public sealed record OperatorControls(
    DaemonHealth Health,
    Func<(string? File, string Settings)> Settings,
    Func<int> LogLevel,
    Action<int> SetLogLevel,
    Func<CancellationToken, Task<ReloadView>> Reload);
