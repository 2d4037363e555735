using System.Diagnostics;

namespace Vio4wd.Zmq.Tests.Support;

/// <summary>Runs Support/zmq_request.py: a pyzmq REQ client, like the original's tools.</summary>
internal static class PyZmq
{
    public static Task<byte[]?> RequestAsync(string endpoint, params byte[][] frames) => RequestAsync(endpoint, null, frames);

    /// <summary>With <paramref name="curveServerKey"/>, the client talks CURVE to a server with that public key.</summary>
    public static Task<byte[]?> RequestAsync(string endpoint, string? curveServerKey, params byte[][] frames) =>
        RequestAsync(endpoint, curveServerKey, null, frames);

    /// <summary>With <paramref name="clientKeys"/>, the CURVE client uses that key pair instead of a fresh one.</summary>
    public static async Task<byte[]?> RequestAsync(string endpoint, string? curveServerKey, (string Public, string Secret)? clientKeys, params byte[][] frames)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Support", "zmq_request.py"));
        info.ArgumentList.Add(endpoint);
        if (curveServerKey is not null)
        {
            info.ArgumentList.Add(curveServerKey);
            if (clientKeys is { } pair)
            {
                info.ArgumentList.Add(pair.Public);
                info.ArgumentList.Add(pair.Secret);
            }
        }

        using Process process = Process.Start(info)!;
        foreach (byte[] frame in frames)
        {
            await process.StandardInput.WriteLineAsync(frame.Length == 0 ? "-" : Convert.ToHexString(frame));
        }

        process.StandardInput.Close();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode switch
        {
            0 => Convert.FromHexString(stdout.Trim()),
            2 => null,
            _ => throw new InvalidOperationException($"zmq_request.py failed: {stderr}"),
        };
    }

    /// <summary>A CURVE key pair (public, secret) from pyzmq, in Z85.</summary>
    public static (string Public, string Secret) CurveKeyPair()
    {
        using Process process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import zmq; p, s = zmq.curve_keypair(); print(p.decode()); print(s.decode())"])
        {
            RedirectStandardOutput = true,
        })!;
        string[] lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        return (lines[0], lines[1]);
    }
}
