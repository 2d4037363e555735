using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;
using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;

namespace Vio4wd.Core.State;

/// <summary>What a state file may hold: it is read back as untrusted input, as any other.</summary>
/// <param name="SocketAllowed">Whether a runtime source may have a relay's socket at this path (the socket directory's rule).</param>
public sealed record StateFileRules(int MaxRelays, bool AllowRuntimeDevargs, Func<string, bool> SocketAllowed);

/// <summary>
/// The desired state only the daemon remembers, kept across restarts in one JSON file: every claim
/// with its place in line (<see cref="HeldClaim"/>), so port control's and the file monitor's relays
/// come back and a running VM's relay is not lost to a later claim. Written whole to a new file and
/// renamed over the old one (a crash leaves the old or the new, never half of one); read with the
/// checks of untrusted input (no symbolic link, owner and mode, size, every field), and a file that
/// fails them is refused whole.
/// </summary>
public static class DesiredStateFile
{
    public const string FileName = "state.json";

    /// <summary>Far above what 512 relays with bonds and long names take (about 300 KB).</summary>
    public const int MaxBytes = 4 << 20;

    private const int Version = 1;
    private const int MaxSocketPathBytes = 107;
    private static readonly string[] Sources = ["static", "ovsdb", "zmq", "file"];

    /// <summary>The claims the file holds (none when there is no file), or why it was refused.</summary>
    public static IReadOnlyList<HeldClaim> Read(string directory, StateFileRules rules, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(rules);
        string path = Path.Combine(directory, FileName);
        using SafeFileHandle file = Posix.Posix.Open(path, Posix.Posix.ReadOnly | Posix.Posix.NoFollow | Posix.Posix.NonBlock | Posix.Posix.CloseOnExec, out int errno);
        if (file.IsInvalid)
        {
            problem = errno == Posix.Posix.ENoEnt ? null
                : errno == Posix.Posix.ELoop ? $"{path} is a symbolic link"
                : $"cannot open {path}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}";
            return [];
        }

        Posix.FileStatus status = Posix.Posix.Status(file);
        problem = !status.IsRegularFile ? $"{path} is not a regular file"
            : status.Uid != 0 && status.Uid != Posix.Posix.EffectiveUserId ? $"{path} is owned by uid {status.Uid}, not root"
            : (status.Permissions & 0b000_010_010) != 0 ? $"{path} is writable by others (mode {Convert.ToString(status.Permissions, 8)})"
            : status.Size > MaxBytes ? $"{path} has {status.Size} bytes, more than {MaxBytes}"
            : null;
        if (problem is not null)
        {
            return [];
        }

        byte[] bytes;
        using (var stream = new FileStream(file, FileAccess.Read))
        {
            bytes = new byte[(int)status.Size];
            stream.ReadExactly(bytes);
        }

        StateDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, StateJson.Default.StateDocument);
        }
        catch (JsonException e)
        {
            problem = $"{path} is not a state file: {e.Message}";
            return [];
        }

        if (document is null || document.Version != Version || document.Claims is null)
        {
            problem = $"{path} is not a version {Version} state file";
            return [];
        }

        var held = new List<HeldClaim>();
        var seen = new HashSet<(string, string)>();
        foreach ((ClaimRecord record, int index) in document.Claims.Select((r, i) => (r, i)))
        {
            if (document.Claims.Count > rules.MaxRelays * 8)
            {
                problem = $"{path} holds {document.Claims.Count} claims, more than {rules.MaxRelays * 8}";
                return [];
            }

            if (Check(record, rules) is { } wrong)
            {
                problem = $"{path}: claim {index}: {wrong}";
                return [];
            }

            if (!seen.Add((record.Source, record.Key)))
            {
                problem = $"{path}: claim {index}: {record.Source} claims {record.Key} twice";
                return [];
            }

            held.Add(new HeldClaim(record.Source, new RelayClaim(record.Key, record.Subject, SpecOf(record), record.Name), record.Order));
        }

        return held;
    }

    /// <summary>Replaces the file with <paramref name="held"/>: written to a new file, flushed to disk, renamed over the old.</summary>
    public static void Write(string directory, IReadOnlyList<HeldClaim> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        string path = Path.Combine(directory, FileName);
        string next = path + ".new";
        File.Delete(next); // a left-over of a crash; a link is removed, not followed
        var document = new StateDocument(Version, [.. held.Select(RecordOf)]);
        // CreateNew is O_EXCL: nothing at the path (a planted link included) is opened.
        using (var stream = new FileStream(next, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            JsonSerializer.Serialize(stream, document, StateJson.Default.StateDocument);
            stream.Flush(flushToDisk: true);
        }

        File.Move(next, path, overwrite: true);
    }

    /// <summary>Moves a refused file out of the way (kept for a look, never read again); the new name, or null when there was none.</summary>
    public static string? SetAside(string directory, DateTimeOffset now)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            return null;
        }

        string aside = $"{path}.refused-{now:yyyyMMddTHHmmss}";
        File.Move(path, aside, overwrite: true);
        return aside;
    }

    private static string? Check(ClaimRecord r, StateFileRules rules)
    {
        bool runtime = r.Source is not "static";
        if (r.Source is null || !Sources.Contains(r.Source))
        {
            return $"unknown source '{r.Source}'";
        }

        if (!Text(r.Key, 256) || !Text(r.Subject, 256) || (r.Name is not null && !Text(r.Name, 128)))
        {
            return "a key, subject or name is empty, too long or has control characters";
        }

        if (r.Order < 0 || r.Order > long.MaxValue / 2)
        {
            return $"order {r.Order} is out of range";
        }

        if (r.Relay < 0 || r.Relay >= rules.MaxRelays)
        {
            return $"relay {r.Relay} is not below VIRTIOFWD_MAX_RELAYS ({rules.MaxRelays})";
        }

        if (r.Device is { } device)
        {
            if (device.Devices is not { Count: >= 1 and <= DeviceAttachment.MaxBondMembers } devices || (devices.Count > 1 && device.BondMode is null))
            {
                return "a device has no member, too many, or several without a bond mode";
            }

            if (device.BondMode is < 0 or > 6)
            {
                return $"bond mode {device.BondMode} is not 0-6";
            }

            foreach (string member in devices)
            {
                if (DeviceAttachment.Parse(member ?? string.Empty, out string error) is not { } parsed)
                {
                    return $"device '{member}': {error}";
                }

                if (parsed.Devices[0] != member || (runtime && parsed.RuntimeRefusal(rules.AllowRuntimeDevargs) is not null))
                {
                    return $"device '{member}' is not one a runtime source may name";
                }
            }
        }

        if (r.Socket is { } socket)
        {
            if (!Text(socket.Path, MaxSocketPathBytes) || !Path.IsPathRooted(socket.Path) || Encoding.UTF8.GetByteCount(socket.Path) > MaxSocketPathBytes
                || socket.Path.Contains("/../", StringComparison.Ordinal) || socket.Path.EndsWith("/..", StringComparison.Ordinal))
            {
                return "a socket path is not an absolute path of at most 107 bytes";
            }

            if (socket.Mode is not ("server" or "client"))
            {
                return $"socket mode '{socket.Mode}' is neither server nor client";
            }

            if (runtime && !rules.SocketAllowed(socket.Path))
            {
                return $"socket {socket.Path} is not where runtime sources may have sockets";
            }
        }

        if (r.Pins is { } pins && (pins.Count != 2 || pins.Any(c => c is < 0 or > 4095)))
        {
            return "pins are two CPUs (or nulls) of 0-4095";
        }

        return null;
    }

    private static bool Text(string? text, int max) =>
        !string.IsNullOrEmpty(text) && text.Length <= max && !text.Any(char.IsControl);

    private static RelaySpec SpecOf(ClaimRecord r) => new(
        r.Relay,
        r.Device is not { } d ? null : d.BondMode is { } mode ? DeviceAttachment.Bond((BondMode)mode, d.Devices) : DeviceAttachment.Of(d.Devices[0]),
        r.Socket is not { } s ? null : new VhostSocketSpec(s.Path, s.Mode == "client" ? VhostMode.Client : VhostMode.Server),
        r.Pins is not { } p ? null : new CpuPins(p[0], p[1]));

    private static ClaimRecord RecordOf(HeldClaim h)
    {
        RelaySpec spec = h.Claim.Spec;
        return new ClaimRecord(h.Source, h.Claim.Key, h.Claim.Subject, h.Claim.Name, h.Order, spec.RelayId,
            spec.Device is not { } d ? null : new DeviceRecord([.. d.Devices], d.BondMode is { } mode ? (int)mode : null),
            spec.Socket is not { } s ? null : new SocketRecord(s.Path, s.Mode == VhostMode.Client ? "client" : "server"),
            spec.Pins is not { } p ? null : [p.VfToVm, p.VmToVf]);
    }
}

internal sealed record StateDocument(int Version, IReadOnlyList<ClaimRecord>? Claims);

internal sealed record ClaimRecord(string Source, string Key, string Subject, string? Name, long Order, int Relay, DeviceRecord? Device, SocketRecord? Socket, IReadOnlyList<int?>? Pins);

internal sealed record DeviceRecord(IReadOnlyList<string> Devices, int? BondMode);

internal sealed record SocketRecord(string Path, string Mode);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true, MaxDepth = 8)]
[JsonSerializable(typeof(StateDocument))]
internal sealed partial class StateJson : JsonSerializerContext;
