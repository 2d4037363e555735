using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Vio4wd.Testing;

/// <summary>
/// A real Prometheus server (Debian's prometheus package) scraping the given targets every second,
/// on a free loopback port with its own storage in a temporary folder; killed by PID and removed
/// on dispose. Queries go through its HTTP API, as a dashboard's would.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly Process _process;
    private readonly HttpClient _http;

    private PrometheusServer(TempDirectory dir, Process process, int port)
    {
        _dir = dir;
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(string job, IEnumerable<string> targets, TimeSpan patience)
    {
        var dir = new TempDirectory();
        int port = FreePort();
        string targetList = string.Join(", ", targets.Select(t => $"'{t}'"));
        File.WriteAllText(dir.File("prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
            scrape_configs:
              - job_name: {job}
                static_configs:
                  - targets: [{targetList}]
            """);
        var info = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[]
        {
            $"--config.file={dir.File("prometheus.yml")}", $"--storage.tsdb.path={dir.File("data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(dir, process, port);
        try
        {
            await Eventually.UntilAsync(server.IsReadyAsync, "prometheus to be ready", patience);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>An instant query: each series' labels and value (empty when nothing matches yet).</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string expression)
    {
        using HttpResponseMessage response = await _http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(expression));
        string body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"query {expression}: {body}");
        using JsonDocument json = JsonDocument.Parse(body);
        return [.. json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => (
            (IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>The value of a query that selects one series, or null while it selects none.</summary>
    public async Task<double?> ValueAsync(string expression) =>
        (await QueryAsync(expression)) is [var only] ? only.Value : null;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private async Task<bool> IsReadyAsync()
    {
        Assert.That(_process.HasExited, Is.False, "prometheus exited at start");
        try
        {
            using HttpResponseMessage response = await _http.GetAsync("-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>A loopback TCP port nobody listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
