using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Vio4wd.Configuration;
using Vio4wd.Contracts;
using Vio4wd.Core.Model;
using Vio4wd.Core.Reconciliation;
using Vio4wd.Core.Relays;
using Vio4wd.Core.Dataplane;
using Vio4wd.Contracts.Protocol;
using Op = Vio4wd.Contracts.Protocol.PortControlRequest.Types.Op;
using Status = Vio4wd.Contracts.Protocol.PortControlResponse.Types.Status;
using Vio4wd.Zmq;
using Vio4wd.Core.Sources;
using Vio4wd.Core.Health;
using Errors = Vio4wd.Sources.Zmq.PortControlErrors;

namespace Vio4wd.Sources.Zmq;

/// <summary>
/// The original's port control (ADD, REMOVE, ADD_SOCK, REMOVE_SOCK, QUERY_PCI) as a source of
/// desired state: each request changes the "zmq" slice and is answered once the reconciler has
/// acted on it, with the original's status, codes and source strings for the real outcome. A
/// change the dataplane refused is taken back, so the daemon does not retry what the client was
/// told failed. Its defects are fixed: at most 8 addresses, PCI addresses compared as numbers,
/// ids that do not apply are refused rather than ignored.
/// </summary>
/// <param name="socketDirectories">ADD_SOCK sockets are made (or, in client mode, reached) here and nowhere else: the socket directory, then VIRTIOFWD_VHOST_SOCKET_DIRS.</param>
public sealed partial class PortControlSource(
    ZmqBinding binding,
    VhostMode socketMode,
    IReadOnlyList<string> socketDirectories,
    ILogger logger,
    Func<PciAddress, string>? deviceOf = null) : IRelaySource
{
    public const string SourceName = "zmq";

    /// <summary>The original's buffer held 256 bytes plus 8 addresses of 16.</summary>
    public const int MaxRequestBytes = 384;

    private readonly Func<PciAddress, string> _deviceOf = deviceOf ?? (pci => pci.ToString());
    private readonly Dictionary<int, Entry> _slice = [];
    private SourceContext? _context;
    private bool _tookUpRestored;

    public string Name => SourceName;

    private SourceContext Context => _context ?? throw new InvalidOperationException("port control is not running");

    public async Task RunAsync(SourceContext context, CancellationToken cancellationToken)
    {
        Use(context);
        // Far above a valid request, so oversized ones reach the handler and get its error answer.
        using ZmqRepServer server = ZmqRepServer.Start("port control", binding, MaxRequestBytes * 4096L, HandleAsync, logger);
        context.Report(PartState.Serving, binding.Endpoint.Text);
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>What this source asks for on one relay; a bond keeps its name for REMOVE and QUERY_PCI.</summary>
    private sealed record Entry(RelaySpec Spec, string DeviceName);

    /// <summary>
    /// Binds the source to the daemon's state; what was added before a restart of this source stays
    /// added, and on the first start what was added before the daemon restarted (the state file).
    /// </summary>
    internal void Use(SourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        if (!_tookUpRestored)
        {
            _tookUpRestored = true;
            foreach (RelayClaim claim in context.Restored.Where(c => c.Key == Key(c.Spec.RelayId)))
            {
                _slice[claim.Spec.RelayId] = new Entry(claim.Spec, claim.Name ?? claim.Spec.Device?.Devices[0] ?? string.Empty);
            }
        }

        Publish();
    }

    public async Task<byte[]> HandleAsync(ZmqRequest request)
    {
        if (!Accepts(request, out PortControlRequest? port, out PciAddress[] pcis, out string? problem))
        {
            LogInvalid(logger, problem);
            return Error();
        }

        PortControlResponse response = port.Op switch
        {
            Op.Add => await AddAsync(port, pcis).ConfigureAwait(false),
            Op.Remove => await RemoveAsync(port, pcis).ConfigureAwait(false),
            Op.AddSock => await AddSockAsync(port, pcis).ConfigureAwait(false),
            Op.RemoveSock => await RemoveSockAsync(port, pcis).ConfigureAwait(false),
            _ => Query(port.VhostPath),
        };
        return response.ToByteArray();
    }

    /// <summary>
    /// Whether a request passes the checks made before it changes anything (frames, size,
    /// encoding, fields), with the request and its addresses, or why not. Untrusted bytes stop here.
    /// </summary>
    internal bool Accepts(ZmqRequest request, [NotNullWhen(true)] out PortControlRequest? port, out PciAddress[] pcis, [NotNullWhen(false)] out string? problem)
    {
        pcis = [];
        port = request.Frames == 1 && request.Bytes.Length <= MaxRequestBytes ? Parse(request.Bytes) : null;
        if (port is null)
        {
            problem = request.Frames != 1 ? $"{request.Frames} frames" : request.Bytes.Length > MaxRequestBytes ? $"{request.Bytes.Length} bytes" : "not a PortControlRequest";
            return false;
        }

        pcis = [.. port.PciAddrs.Select(a => new PciAddress(a.Domain, a.Bus, a.Slot, a.Function))];
        string op = port.Op.ToString();
        string addresses = string.Join(",", pcis);
        LogRequest(logger, op, pcis.Length, addresses, port.HasVirtioId ? port.VirtioId : -1L);
        problem = Invalid(port, pcis) ?? OutsideSocketDirectory(port);
        return problem is null;
    }

    /// <summary>A check of a request's fields: when <see cref="Breaks"/> holds, <see cref="Problem"/> says why (logged; the client gets a bare ERROR).</summary>
    private sealed record Rule(Func<PortControlRequest, PciAddress[], bool> Breaks, Func<PortControlRequest, PciAddress[], string> Problem);

    // The original's validation, plus what it let through: more than 8 addresses, a bond mode
    // DPDK does not have, ids on operations that ignore them, unusable socket paths. The first
    // rule a request breaks is the one reported.
    private static readonly Rule[] Rules =
    [
        new((_, a) => a.Length > DeviceAttachment.MaxBondMembers, (_, a) => $"{a.Length} PCI addresses; a bond has at most {DeviceAttachment.MaxBondMembers}"),
        new((_, a) => a.Any(p => p.Slot > 0x1f || p.Function > 7 || p.Domain > 0xffff || p.Bus > 0xff), (_, _) => "a PCI address is out of range"),
        new((_, a) => a.Distinct().Count() != a.Length, (_, _) => "a PCI address is given twice"),
        new((p, a) => p.HasName && p.Op is Op.Add or Op.AddSock && a.Length < 2, (_, _) => "Bond add operations require multiple PCI devices"),
        new((p, a) => !p.HasName && a.Length > 1, (_, _) => "Bond port operations require an interface name"),
        new((p, _) => p.HasName && !BondName().IsMatch(p.Name), (p, _) => $"'{p.Name}' is not a usable bond name"),
        new((p, _) => p.HasMode && (p.Mode > 6 || !p.HasName), (p, _) => $"bond mode {p.Mode} is not one of 0-6 for a named bond"),
        new((p, _) => p.Op is Op.Add or Op.Remove && !p.HasVirtioId, (p, _) => $"{p.Op} requires virtio_id"),
        new((p, _) => p.Op is Op.AddSock or Op.RemoveSock or Op.QueryPci && p.HasVirtioId, (p, _) => $"{p.Op} does not take a virtio_id (the relay follows the socket)"),
        new((p, _) => p.Op is Op.QueryPci && !p.HasVhostPath, (_, _) => "QUERY_PCI requires vhost_path"),
        new((p, _) => p.HasVhostPath && p.VhostPath.Length > 0 && ValueParsers.UnixSocketPath(p.VhostPath, out string _) is null,
            (p, _) => $"vhost_path '{p.VhostPath}': {(ValueParsers.UnixSocketPath(p.VhostPath, out string problem) is null ? problem : string.Empty)}"),
    ];

    private static string? Invalid(PortControlRequest port, PciAddress[] pcis) =>
        Rules.FirstOrDefault(rule => rule.Breaks(port, pcis))?.Problem(port, pcis);

    // A client names the path the daemon, as root, binds (and unlinks a stale socket at): only
    // in the socket directory, never a system socket elsewhere.
    private string? OutsideSocketDirectory(PortControlRequest port)
    {
        if (port.Op != Op.AddSock || !port.HasVhostPath || port.VhostPath.Length == 0)
        {
            return null;
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(port.VhostPath));
        return socketDirectories.Any(d => Path.TrimEndingDirectorySeparator(d) == directory) && !port.VhostPath.Contains("/../", StringComparison.Ordinal)
            ? null
            : $"vhost_path '{port.VhostPath}' is not in the socket directory {socketDirectories[0]}"
                + (socketDirectories.Count > 1 ? $" or VIRTIOFWD_VHOST_SOCKET_DIRS ({string.Join(' ', socketDirectories.Skip(1))})" : " (more directories: VIRTIOFWD_VHOST_SOCKET_DIRS)");
    }

    private async Task<PortControlResponse> AddAsync(PortControlRequest port, PciAddress[] pcis)
    {
        string source = pcis.Length > 1 ? Errors.Add.BondSource : Errors.Add.Source;
        if (pcis.Length == 0)
        {
            return new PortControlResponse { Status = Status.Error };
        }

        // Compared unsigned: 2^31 and above must not become a negative relay id.
        if (port.VirtioId >= (uint)Context.MaxRelays)
        {
            return Error(Errors.Add.RelayOutOfRange, source);
        }

        int relay = (int)port.VirtioId;

        (DeviceAttachment device, string name) = DeviceOf(port, pcis);
        DesiredRelay? current = Context.Desired(relay);
        if (current?.Spec.Device is { } existing)
        {
            // A conditional add of what is already there is done already.
            return pcis.Length == 1 && port.Conditional && RelaySpec.SameDevice(existing, device) ? Ok() : Error(Errors.Add.RelayHasDevice, source);
        }

        if (InUse(device) is not null)
        {
            return Error(pcis.Length > 1 ? Errors.Add.BondMemberInUse : Errors.Add.DeviceUnavailable, source);
        }

        var entry = new Entry(new RelaySpec(relay, device, null), name);
        return await ApplyAsync(relay, entry, status => status.Live?.Device.Attached == true ? Ok() : Error(pcis.Length > 1 ? Errors.Add.BondAttachFailed : Errors.Add.DeviceUnavailable, source)).ConfigureAwait(false);
    }

    private async Task<PortControlResponse> RemoveAsync(PortControlRequest port, PciAddress[] pcis)
    {
        if (port.VirtioId >= (uint)Context.MaxRelays)
        {
            return Error(Errors.Remove.RelayOutOfRange, Errors.Remove.Source);
        }

        int relay = (int)port.VirtioId;

        if (!_slice.TryGetValue(relay, out Entry? entry) || entry.Spec.Device is null)
        {
            // A device another source gave this relay is not port control's to take.
            return Context.Desired(relay)?.Spec.Device is not null ? Error(Errors.Remove.NotThatDevice, Errors.Remove.Source)
                : port.Conditional ? Ok() : Error(Errors.Remove.NothingThere, Errors.Remove.Source);
        }

        if (!Names(entry, port, pcis))
        {
            return Error(Errors.Remove.NotThatDevice, Errors.Remove.Source);
        }

        Entry? rest = entry.Spec.Socket is null ? null : entry with { Spec = entry.Spec with { Device = null } };
        return await ApplyAsync(relay, rest, status => status.Live?.Device.Attached == true ? Error(Errors.Remove.DetachFailed, Errors.Remove.Source) : Ok()).ConfigureAwait(false);
    }

    private async Task<PortControlResponse> AddSockAsync(PortControlRequest port, PciAddress[] pcis)
    {
        if (!port.HasVhostPath || port.VhostPath.Length == 0)
        {
            return Error(Errors.AddSock.NoPath, Errors.AddSock.Source);
        }

        (DeviceAttachment? device, string name) = pcis.Length == 0 ? (null, string.Empty) : DeviceOf(port, pcis);
        if (device is not null && InUse(device) is not null)
        {
            return Error(Errors.AddSock.DeviceInUse, Errors.AddSock.Source);
        }

        if (RelayWithSocket(port.VhostPath) is not null)
        {
            return Error(Errors.AddSock.SocketInUse, Errors.AddSock.Source);
        }

        // Free: nobody wants it and nothing is left of it (the reconciler drops a relay's status once it is gone).
        int? free = Enumerable.Range(0, Context.MaxRelays).Cast<int?>()
            .FirstOrDefault(id => Context.Desired(id!.Value) is null && Context.Status(id.Value) is null);
        if (free is not { } relay)
        {
            return Error(Errors.AddSock.NoFreeRelay, Errors.AddSock.Source);
        }

        var entry = new Entry(new RelaySpec(relay, device, new VhostSocketSpec(port.VhostPath, socketMode)), name);
        return await ApplyAsync(relay, entry, status =>
            status.Live?.Vm.Socket != port.VhostPath ? Error(Errors.AddSock.SocketFailed, Errors.AddSock.Source)
            : device is not null && status.Live.Device.Attached != true
                ? Error(pcis.Length > 1 ? Errors.AddSock.BondAttachFailed : Errors.AddSock.AttachFailed, Errors.AddSock.Source)
            : Ok()).ConfigureAwait(false);
    }

    private async Task<PortControlResponse> RemoveSockAsync(PortControlRequest port, PciAddress[] pcis)
    {
        bool byPath = port.HasVhostPath && port.VhostPath.Length > 0;
        if (!byPath && pcis.Length == 0 && !port.HasName)
        {
            return Error(Errors.RemoveSock.NothingNamed, Errors.RemoveSock.Source);
        }

        KeyValuePair<int, Entry>? found = byPath
            ? _slice.Where(e => e.Value.Spec.Socket?.Path == port.VhostPath).Cast<KeyValuePair<int, Entry>?>().FirstOrDefault()
            : _slice.Where(e => Names(e.Value, port, pcis)).Cast<KeyValuePair<int, Entry>?>().FirstOrDefault();
        if (found is not { } match)
        {
            return Error(Errors.RemoveSock.UnknownSocket, Errors.RemoveSock.Source);
        }

        if ((pcis.Length > 0 || port.HasName) && !Names(match.Value, port, pcis))
        {
            return Error(Errors.RemoveSock.NotThatDevice, Errors.RemoveSock.Source);
        }

        return await ApplyAsync(match.Key, null, status =>
            status.Live?.Vm.Socket is not null ? Error(Errors.RemoveSock.SocketStillThere, Errors.RemoveSock.Source)
            : status.Live?.Device.Attached == true ? Error(Errors.RemoveSock.DeviceStillAttached, Errors.RemoveSock.Source)
            : Ok()).ConfigureAwait(false);
    }

    private PortControlResponse Query(string path)
    {
        if (RelayWithSocket(path) is not { } relay)
        {
            return Error(Errors.Query.UnknownSocket, Errors.Query.Source);
        }

        string device = _slice.TryGetValue(relay.Spec.RelayId, out Entry? entry) && entry.Spec.Device is not null ? entry.DeviceName
            : relay.Spec.Device?.BondMode is not null ? relay.Spec.Device.ToString()
            : relay.Spec.Device?.Devices[0] ?? string.Empty;
        return new PortControlResponse { Status = Status.Ok, QueryString = device };
    }

    /// <summary>Changes this source's wish for one relay (null: none), waits for the reconciler, and judges the outcome; a refused change is taken back.</summary>
    private async Task<PortControlResponse> ApplyAsync(int relay, Entry? entry, Func<RelayStatus, PortControlResponse> outcome)
    {
        _slice.TryGetValue(relay, out Entry? before);
        Set(relay, entry);
        // A claim that lost to an earlier one is not applied at all.
        ClaimRefusal? refused = Context.RefusalOf(Key(relay));
        PassResult? pass = refused is null ? await Context.WaitForPassAsync(relay, PassResults.ApplyTimeout).ConfigureAwait(false) : null;
        // The pass wrote the status before its result was recorded: this is what it left.
        RelayStatus? status = pass is null ? null : Context.Status(relay);
        PortControlResponse response = outcome(status ?? new RelayStatus { Id = relay });
        if (response.Status != Status.Ok)
        {
            LogRefused(logger, relay, refused?.Reason ?? pass?.Error ?? status?.LastError ?? "the change was not applied in time");
            Set(relay, before);
        }

        return response;
    }

    private void Set(int relay, Entry? entry)
    {
        if (entry is null)
        {
            _slice.Remove(relay);
        }
        else
        {
            _slice[relay] = entry;
        }

        Publish();
    }

    private void Publish() =>
        Context.Publish([.. _slice.Select(e => new RelayClaim(Key(e.Key), $"port control: {e.Value.DeviceName}", e.Value.Spec, e.Value.DeviceName))]);

    private static string Key(int relay) => $"relay {relay}";

    private (DeviceAttachment Device, string Name) DeviceOf(PortControlRequest port, PciAddress[] pcis) =>
        pcis.Length == 1
            ? (DeviceAttachment.Of(_deviceOf(pcis[0])), pcis[0].ToString())
            : (DeviceAttachment.Bond(port.HasMode ? (BondMode)port.Mode : BondMode.ActiveBackup, [.. pcis.Select(_deviceOf)]), port.Name);

    // The relay a device is desired on, by any source.
    private DesiredRelay? InUse(DeviceAttachment device) =>
        Context.AllDesired().FirstOrDefault(r => r.Spec.Device is { } d && d.Devices.Intersect(device.Devices, StringComparer.Ordinal).Any());

    private DesiredRelay? RelayWithSocket(string path) => Context.AllDesired().FirstOrDefault(r => r.Spec.Socket?.Path == path);

    private bool Names(Entry entry, PortControlRequest port, PciAddress[] pcis) =>
        entry.Spec.Device is { } device && (pcis.Length == 1 && !port.HasName
            ? device.BondMode is null && device.Devices[0] == _deviceOf(pcis[0])
            : port.HasName && device.BondMode is not null && entry.DeviceName == port.Name);

    private static PortControlRequest? Parse(byte[] bytes)
    {
        try
        {
            return PortControlRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static PortControlResponse Ok() => new() { Status = Status.Ok };

    private static byte[] Error() => new PortControlResponse { Status = Status.Error }.ToByteArray();

    private static PortControlResponse Error(int code, string source) => new() { Status = Status.Error, ErrorCode = code, ErrorCodeSource = source };

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_]{1,31}$")]
    private static partial System.Text.RegularExpressions.Regex BondName();

    [LoggerMessage(Level = LogLevel.Information, Message = "PortControlRequest: [op={Op}, num_VFs={Count}, pci_addrs=<{Addresses}>, virtio_id={Relay}]")]
    private static partial void LogRequest(ILogger logger, string op, int count, string addresses, long relay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PortControlRequest: invalid field value(s): {Problem}")]
    private static partial void LogInvalid(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PortControlRequest: relay {Relay} not changed: {Reason}")]
    private static partial void LogRefused(ILogger logger, int relay, string reason);
}
