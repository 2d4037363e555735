using System.Diagnostics;
using System.Text;

namespace Vio4wd.Testing;

/// <summary>
/// A <c>dpdk-testpmd</c> process standing in for a VM (net_virtio_user) or a peer, driven through
/// its interactive prompt on stdin. It gets its own --file-prefix; disposal kills it by PID and
/// removes its runtime folder, whatever state the test left it in.
/// </summary>
public sealed partial class Testpmd : IAsyncDisposable
{
    private static int s_count;

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private Testpmd(Process process, string prefix)
    {
        _process = process;
        Prefix = prefix;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Prefix { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="vdevs">--vdev values, e.g. <c>net_virtio_user0,path=/tmp/s.sock</c>.</param>
    /// <param name="appArguments">testpmd arguments after <c>--</c>; <c>-i</c> is always added.</param>
    /// <param name="runAs">"UID:GID" to run as that user and group alone, as QEMU under libvirt runs (no shared runtime files then: --no-shconf).</param>
    public static Testpmd Start(IEnumerable<string> vdevs, IEnumerable<string> appArguments, string cores = "0,1", int memoryMb = 512, string? runAs = null)
    {
        string prefix = $"vio4wd-peer-{Environment.ProcessId}-{Interlocked.Increment(ref s_count)}";
        // stdbuf: testpmd printf()s to a pipe, which would otherwise hold its output back.
        var info = new ProcessStartInfo(runAs is null ? "stdbuf" : "setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runAs is not null)
        {
            // A non-root DPDK keeps its runtime folder under $XDG_RUNTIME_DIR, else /tmp/dpdk: not root's.
            info.Environment.Remove("XDG_RUNTIME_DIR");
            string[] ids = runAs.Split(':');
            foreach (string arg in new[] { $"--reuid={ids[0]}", $"--regid={ids[1]}", "--clear-groups", "--", "stdbuf" })
            {
                info.ArgumentList.Add(arg);
            }
        }

        foreach (string arg in new[] { "-oL", "dpdk-testpmd", "-l", cores, "--no-pci", "--no-huge", "-m", memoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture), "--single-file-segments", $"--file-prefix={prefix}", "--log-level=lib.eal:warning", "--log-level=lib.vhost.config:warning" })
        {
            info.ArgumentList.Add(arg);
        }

        if (runAs is not null)
        {
            info.ArgumentList.Add("--no-shconf");
        }

        foreach (string vdev in vdevs)
        {
            info.ArgumentList.Add("--vdev");
            info.ArgumentList.Add(vdev);
        }

        info.ArgumentList.Add("--");
        info.ArgumentList.Add("-i");
        if (!appArguments.Any(a => a.StartsWith("--total-num-mbufs", StringComparison.Ordinal)))
        {
            // testpmd's default pool (~155k mbufs) does not fit the small no-hugepage memory.
            info.ArgumentList.Add("--total-num-mbufs=8192");
        }

        foreach (string arg in appArguments)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dpdk-testpmd did not start");
        return new Testpmd(process, prefix);
    }

    /// <summary>
    /// Waits for testpmd's link check after port start ("Checking link statuses..." "Done"):
    /// by then its ports are configured and started. (A
    /// virtio_user port connects at probe and restarts the device at port start; frames put in
    /// the guest's rings before that restart are lost, as with a guest that resets its NIC.)
    /// </summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        // Its stderr lines ("Error during enabling promiscuous mode ...") can land between the two.
        bool Ready()
        {
            string output = Output;
            int check = output.IndexOf("Checking link statuses...", StringComparison.Ordinal);
            return check >= 0 && output.IndexOf("\nDone", check, StringComparison.Ordinal) > 0;
        }

        await Eventually.UntilAsync(() => Ready() || _process.HasExited, $"testpmd {Prefix} to start its ports", timeout);
        Assert.That(Ready(), Is.True, $"testpmd {Prefix} did not become ready:\n{Output}");
    }

    /// <summary>
    /// Waits until a port has sent at least <paramref name="count"/> frames (its NIC statistics),
    /// e.g. until the VM stand-in has passed everything the relay put in its rings to its pcap port.
    /// </summary>
    public async Task WaitForPortTxAsync(int port, long count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long sent = -1;
        while (true)
        {
            int mark = Output.Length;
            await SendAsync($"show port stats {port}");
            var answered = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            System.Text.RegularExpressions.Match match;
            while (!(match = System.Text.RegularExpressions.Regex.Match(Output[mark..], $@"NIC statistics for port {port}\s+#+\s+RX-packets:.*?TX-packets:\s*(\d+)", System.Text.RegularExpressions.RegexOptions.Singleline)).Success
                && DateTime.UtcNow < answered)
            {
                await Task.Delay(10);
            }

            if (match.Success && (sent = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) >= count)
            {
                return;
            }

            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                Assert.Fail($"testpmd {Prefix} port {port} sent {sent} frames, not {count}:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Frames port 0 has received (the VM stand-in's RX from the relay), from its port statistics.</summary>
    public async Task<long> ReceivedAsync()
    {
        int seen = RxPackets().Count(Output);
        await SendAsync("show port stats 0");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        System.Text.RegularExpressions.MatchCollection matches;
        while ((matches = RxPackets().Matches(Output)).Count <= seen)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"testpmd {Prefix} did not print its port statistics\n{Output}");
            }

            await Task.Delay(50);
        }

        return long.Parse(matches[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until port 0 has received more than a thousand frames beyond <paramref name="baseline"/>: traffic flows.</summary>
    public async Task WaitForMoreReceivedAsync(long baseline, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long now;
        while ((now = await ReceivedAsync()) <= baseline + 1000)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}: the VM received {now - baseline}\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Quits cleanly, so pcap files are flushed and the vhost connection is closed.</summary>
    public async Task QuitAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        await SendAsync("quit");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"testpmd {Prefix} did not quit within 30 s:\n{Output}");
        }
    }

    /// <summary>Dies at once, as a crashing VM does.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            DpdkRuntime.Remove(Prefix);
        }

        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"RX-packets: (\d+)")]
    private static partial System.Text.RegularExpressions.Regex RxPackets();
}
