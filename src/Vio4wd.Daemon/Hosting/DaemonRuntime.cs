using Microsoft.Extensions.Hosting;
using Vio4wd.Core.Configuration;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Health;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;

namespace Vio4wd.Daemon.Hosting;

/// <summary>
/// The state the daemon's parts share: the desired state, the relays' statuses, the parts'
/// health, and the dataplane and reconciler once <see cref="Parts.DataplaneService"/> has them up.
/// </summary>
internal sealed class DaemonRuntime(VirtioForwarderOptions options, IHostApplicationLifetime lifetime)
{
    private volatile IDataplane? _dataplane;
    private volatile Reconciler? _reconciler;
    private volatile bool _ready;
    private int _exitCode;

    public VirtioForwarderOptions Options { get; } = options;

    public int MaxRelays => Options.MaxRelays;

    public DesiredStateStore Desired { get; } = new();

    public RelayStatusStore Statuses { get; } = new();

    public RejectedRequests Rejected { get; } = new();

    public DaemonParts Parts { get; } = new();

    /// <summary>Each relay's last change, step by step (vio4wdctl describe, debug log, metrics).</summary>
    public PlugTracer Plugs { get; } = new();

    /// <summary>Null until the EAL and the workers are up.</summary>
    public IDataplane? Dataplane => _dataplane;

    public Reconciler Reconciler => _reconciler ?? throw new InvalidOperationException("the reconciler starts with the dataplane");

    /// <summary>The reconciler, or null before the dataplane is up.</summary>
    public Reconciler? RunningReconciler => _reconciler;

    /// <summary>The first pass over the configured relays is done (READY=1 was sent).</summary>
    public bool Ready
    {
        get => _ready;
        set => _ready = value;
    }

    /// <summary>What the process exits with: 0 unless a part failed in a way only a restart mends.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    public void Started(IDataplane dataplane, Reconciler reconciler)
    {
        _dataplane = dataplane;
        _reconciler = reconciler;
    }

    public void Stopped() => _dataplane = null;

    /// <summary>Ends the process with <paramref name="exitCode"/>, after the usual clean stop, so systemd or the kubelet restarts it.</summary>
    public void Fail(int exitCode)
    {
        Interlocked.CompareExchange(ref _exitCode, exitCode, 0);
        lifetime.StopApplication();
    }
}
