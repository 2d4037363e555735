using Vio4wd.Core.Reconciliation;

namespace Vio4wd.Core.Health;

/// <summary>One check of a health report: its name, whether it passed and why not.</summary>
public sealed record HealthCheck(string Name, bool Ok, string Message);

/// <summary>The checks behind /healthz or /readyz, in the order they are printed.</summary>
public sealed record HealthReport(IReadOnlyList<HealthCheck> Checks)
{
    public bool Ok => Checks.All(c => c.Ok);

    /// <summary>As Kubernetes' own /readyz?verbose: one "[+]name ok" or "[-]name failed: why" line per check.</summary>
    public string Text(string what) =>
        string.Concat(Checks.Select(c => c.Ok ? $"[+]{c.Name} ok\n" : $"[-]{c.Name} failed: {c.Message}\n"))
        + (Ok ? $"{what} check passed\n" : $"{what} check failed\n");
}

/// <summary>
/// Liveness and readiness as the kubelet (and <c>vio4wdctl health</c>) ask for them. Alive: the
/// parts that keep relays going (the reconciler, the event pump, the control socket) are running
/// and the reconciler is not wedged; a source that cannot reach its peer does not make the daemon
/// dead, since a restart would not bring the peer back and would cost every VM its relay.
/// Ready: the first pass is done and every source is in touch with its peer.
/// </summary>
public sealed class DaemonHealth(DaemonParts parts, Func<bool> firstPassDone, Func<RelayController?> reconciler, TimeSpan resyncPeriod, TimeProvider? time = null)
{
    /// <summary>A pass over one relay longer than this means the dataplane's control thread is stuck.</summary>
    public static readonly TimeSpan WedgedPass = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public HealthReport Liveness()
    {
        var checks = new List<HealthCheck>();
        foreach (PartStatus part in parts.All().Where(p => p.Kind != "source").OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            checks.Add(part.State is PartState.Faulted or PartState.Stopped
                ? new HealthCheck(part.Name, false, $"{part.State.ToString().ToLowerInvariant()} since {part.Since:u}" + (part.LastError is { } e ? $": {e}" : string.Empty))
                : new HealthCheck(part.Name, true, string.Empty));
        }

        checks.Add(ReconcilerCheck());
        return new HealthReport(checks);
    }

    public HealthReport Readiness()
    {
        var checks = new List<HealthCheck>
        {
            firstPassDone() ? new HealthCheck("first-pass", true, string.Empty) : new HealthCheck("first-pass", false, "the first pass over the configured relays is not done"),
        };
        foreach (PartStatus part in parts.All().OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            bool inTouch = part.State is PartState.Connected or PartState.Serving or PartState.Running;
            checks.Add(inTouch
                ? new HealthCheck($"{part.Kind}/{part.Name}", true, string.Empty)
                : new HealthCheck($"{part.Kind}/{part.Name}", false, part.State.ToString().ToLowerInvariant() + (part.Detail is { } d ? $" ({d})" : string.Empty)
                    + (part.LastError is { } e ? $": {e}" : string.Empty)));
        }

        return new HealthReport(checks);
    }

    private HealthCheck ReconcilerCheck()
    {
        const string Name = "reconcile-loop";
        if (reconciler() is not { } running)
        {
            // Until the dataplane is up there is no reconciler; the start has its own deadline.
            return new HealthCheck(Name, true, string.Empty);
        }

        if (running.RunningPass is { } pass && pass > WedgedPass)
        {
            return new HealthCheck(Name, false, $"a pass has been running for {pass.TotalSeconds:0} s (the dataplane does not answer)");
        }

        if (running.LastResync is { } last && _time.GetUtcNow() - last > 3 * resyncPeriod)
        {
            return new HealthCheck(Name, false, $"no periodic resync since {last:u}");
        }

        return new HealthCheck(Name, true, string.Empty);
    }
}
