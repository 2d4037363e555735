using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vio4wd.Core.Posix;
using Vio4wd.Core.Relays;
using Vio4wd.Core.State;

namespace Vio4wd.Daemon.Hosting.Parts;

/// <summary>
/// Keeps the desired state only the daemon remembers across restarts (VIRTIOFWD_STATE_DIR): reads
/// the state file before any source starts, so port control's and the file monitor's relays come
/// back with their ids and every claim keeps its place in line; writes it again after each change
/// and once more when the daemon stops. A file it cannot trust is logged, set aside and ignored:
/// the daemon starts as if there were none. A state directory it cannot use leaves relays added at
/// run time in memory only, said once; forwarding never depends on it.
/// </summary>
internal sealed partial class StateKeeperService(
    string? directory,
    StateFileRules rules,
    DesiredStateStore desired,
    RestoredClaims restored,
    ILogger<StateKeeperService> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private string? _directory = directory;
    private IReadOnlyList<HeldClaim> _written = [];
    private Task _writer = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_directory is null)
        {
            return Task.CompletedTask;
        }

        // root's alone: the file names devices and sockets the daemon acts on as root.
        if (OwnedDirectory.Prepare(_directory, null, null, mode: 0b111_000_000) is { } unusable)
        {
            LogUnusable(logger, unusable);
            _directory = null;
            return Task.CompletedTask;
        }

        IReadOnlyList<HeldClaim> held = DesiredStateFile.Read(_directory, rules, out string? problem);
        if (problem is not null)
        {
            string? aside = DesiredStateFile.SetAside(_directory, DateTimeOffset.UtcNow);
            LogRefused(logger, problem, aside ?? "nowhere");
        }
        else if (held.Count > 0)
        {
            desired.RestoreOrder(held);
            restored.Set(held);
            _written = held;
            string path = Path.Combine(_directory, DesiredStateFile.FileName);
            string relays = string.Join("; ", held.GroupBy(h => h.Source).Select(g => $"{g.Key}: relays {string.Join(',', g.Select(h => h.Claim.Spec.RelayId).Distinct().Order())}"));
            LogRestored(logger, held.Count, path, relays);
        }

        desired.Changed += OnChanged;
        desired.RefusalsChanged += Signal;
        _writer = WriteOnChangesAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        desired.Changed -= OnChanged;
        desired.RefusalsChanged -= Signal;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        WriteIfChanged();
    }

    public void Dispose()
    {
        _changed.Dispose();
        _stop.Dispose();
    }

    private void OnChanged(DesiredChange change) => Signal();

    private void Signal()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A write is due already; it will take this change too.
        }
    }

    private async Task WriteOnChangesAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await _changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            WriteIfChanged();
        }
    }

    private void WriteIfChanged()
    {
        if (_directory is null)
        {
            return;
        }

        IReadOnlyList<HeldClaim> held = desired.HeldClaims();
        if (held.SequenceEqual(_written))
        {
            return;
        }

        try
        {
            DesiredStateFile.Write(_directory, held);
            _written = held;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next change tries again; relays are not affected.
            LogWriteFailed(logger, Path.Combine(_directory, DesiredStateFile.FileName), e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "state directory: {Problem}; relays added at run time will not survive a restart")]
    private static partial void LogUnusable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "state file refused: {Problem}; set aside as {Aside}; starting without it")]
    private static partial void LogRefused(ILogger logger, string problem, string aside);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Count} claims from {Path} ({Relays})")]
    private static partial void LogRestored(ILogger logger, int count, string path, string relays);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot write {Path}: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string path, string error);
}
