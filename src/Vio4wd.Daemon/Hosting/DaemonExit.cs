using Microsoft.Extensions.Hosting;

namespace Vio4wd.Daemon.Hosting;

/// <summary>What the process exits with: 0 unless a part failed in a way only a restart mends.</summary>
internal sealed class DaemonExit(IHostApplicationLifetime lifetime)
{
    private int _code;

    public int Code => Volatile.Read(ref _code);

    /// <summary>Ends the process with <paramref name="code"/>, after the usual clean stop, so systemd or the kubelet restarts it.</summary>
    public void Fail(int code)
    {
        Interlocked.CompareExchange(ref _code, code, 0);
        lifetime.StopApplication();
    }
}
