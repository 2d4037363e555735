using Vio4wd.Dataplane.Native;

using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane;

/// <summary>
/// A running DPDK Environment Abstraction Layer. The EAL can be initialised once per
/// process: a second <see cref="StartAsync"/> fails, also after disposal.
/// </summary>
public sealed class EalSession : IAsyncDisposable
{
    private readonly ControlThread _control;
    private bool _disposed;

    /// <summary>The name of the thread that runs EAL and every DPDK control call (the main lcore).</summary>
    public const string ControlThreadName = "dpdk-control";

    /// <summary>
    /// Whether a thread's name (/proc/.../comm) is an EAL worker lcore's: "rte-worker-1" in DPDK
    /// 22.11, "dpdk-worker1" from 23.11.
    /// </summary>
    public static bool IsWorkerThreadName(string name) =>
        name.StartsWith("rte-worker", StringComparison.Ordinal) || name.StartsWith("dpdk-worker", StringComparison.Ordinal);

    private EalSession(ControlThread control, IReadOnlyList<string> arguments, int mainLcore)
    {
        _control = control;
        Arguments = arguments;
        MainLcore = mainLcore;
    }

    /// <summary>The full EAL argument vector, program name first.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The lcore (CPU) the EAL made its main lcore.</summary>
    public int MainLcore { get; }

    public static string DpdkVersion => DpdkBuild.Version;

    public static int MaxRelays => DpdkBuild.MaxRelays;

    /// <summary>Initialises the EAL on a dedicated control thread.</summary>
    /// <param name="arguments">EAL arguments without the program name, e.g. <c>--no-huge -m 512 --no-pci</c>.</param>
    /// <param name="programName">argv[0]; DPDK uses it in its log lines.</param>
    public static async Task<EalSession> StartAsync(IReadOnlyList<string> arguments, string programName = "virtio-forwarder")
    {
        ArgumentNullException.ThrowIfNull(arguments);
        DpdkBuild.EnsureLoaded();
        string[] argv = [programName, .. arguments];
        var control = new ControlThread(ControlThreadName);
        try
        {
            int mainLcore = await control.InvokeAsync(() =>
            {
                NativeResult.Check(NativeMethods.EalInit(argv.Length, argv), "DPDK EAL initialisation");
                return NativeResult.Check(NativeMethods.EalMainLcore(), "reading the EAL main lcore");
            }).ConfigureAwait(false);
            return new EalSession(control, argv, mainLcore);
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>Whether an EAL is running in this process.</summary>
    public static bool IsRunning => NativeMethods.EalIsInitialized() == 1;

    /// <summary>Runs a native control call on the EAL's control thread.</summary>
    internal Task<T> InvokeAsync<T>(Func<T> call)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _control.InvokeAsync(call);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            await _control.InvokeAsync(() => NativeResult.Check(NativeMethods.EalCleanup(), "DPDK EAL cleanup")).ConfigureAwait(false);
        }
        finally
        {
            _disposed = true;
            _control.Dispose();
        }
    }
}
