using System.CommandLine;
using System.Globalization;
using Vio4wd.Contracts;
using Vio4wd.Contracts.Protocol;
using Op = Vio4wd.Contracts.Protocol.PortControlRequest.Types.Op;

namespace Vio4wd.Ctl;

/// <summary>
/// <c>vio4wdctl port OP</c>: port control over ZMQ, with the options, output and exit codes of
/// the original's virtioforwarder_port_control.py: on an error status the whole response in
/// protobuf text format and exit 1; otherwise the query string, if any, and exit 0.
/// </summary>
internal static class PortCommand
{
    public static Command Create()
    {
        var op = new Argument<string>("OP") { Description = "add, remove, add_sock, remove_sock or query_pci (add-sock, ... too)" };
        op.AcceptOnlyFromAmong("add", "remove", "add_sock", "remove_sock", "query_pci", "add-sock", "remove-sock", "query-pci");
        var virtioId = new Option<uint?>("--virtio-id", "--virtio_id") { Description = "Relay id (add, remove)" };
        var pciAddr = new Option<string[]>("--pci-addr", "--pci_addr") { Description = "PCI address dddd:bb:ss.f or bb:ss.f; repeat for a bond", Arity = ArgumentArity.ZeroOrMore };
        var name = new Option<string?>("--name") { Description = "Bond name (with two or more --pci-addr)" };
        var mode = new Option<uint>("--mode") { Description = "Bond mode 0-6 (default 1, active-backup); sent with --name only", DefaultValueFactory = _ => 1 };
        mode.AcceptOnlyFromAmong("0", "1", "2", "3", "4", "5", "6");
        var vhostPath = new Option<string?>("--vhost-path", "--vhost_path") { Description = "vhost-user socket (add_sock, remove_sock, query_pci)" };
        var conditional = new Option<bool>("--conditional") { Description = "Succeed when the change is already in place (always sent, false unless given)" };
        var endpoint = new Option<string>("--zmq-ep", "--zmq_ep")
        {
            Description = "Port control endpoint",
            DefaultValueFactory = _ => DefaultEndpoints.ZmqPortControl,
        };
        var command = new Command("port", "Port control over ZeroMQ, as virtioforwarder_port_control.py") { op, virtioId, pciAddr, name, mode, vhostPath, conditional, endpoint };
        command.SetAction(async (result, ct) =>
        {
            var request = new PortControlRequest { Op = OpOf(result.GetValue(op)!), Conditional = result.GetValue(conditional) };
            foreach (string text in result.GetValue(pciAddr) ?? [])
            {
                if (!PciAddress.TryParse(text, out PciAddress pci))
                {
                    return await FailAsync($"'{text}' is not a PCI address (dddd:bb:ss.f or bb:ss.f)").ConfigureAwait(false);
                }

                request.PciAddrs.Add(new PortControlRequest.Types.PciAddress { Domain = pci.Domain, Bus = pci.Bus, Slot = pci.Slot, Function = pci.Function });
            }

            if (result.GetValue(virtioId) is { } id)
            {
                request.VirtioId = id;
            }

            if (result.GetValue(name) is { } bond)
            {
                request.Name = bond;
                request.Mode = result.GetValue(mode);
            }

            if (result.GetValue(vhostPath) is { } path)
            {
                request.VhostPath = path;
            }

            PortControlResponse response;
            try
            {
                response = await ZmqAsk.RequestAsync(result.GetValue(endpoint)!, request, PortControlResponse.Parser, "port control", ct).ConfigureAwait(false);
            }
            catch (CtlException e)
            {
                return await FailAsync(e.Message).ConfigureAwait(false);
            }

            if (response.Status != PortControlResponse.Types.Status.Ok)
            {
                await Console.Out.WriteAsync(TextFormat.Format(response)).ConfigureAwait(false);
                return 1;
            }

            if (response.QueryString.Length > 0)
            {
                await Console.Out.WriteLineAsync(response.QueryString).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static Op OpOf(string text) => text.Replace('-', '_') switch
    {
        "add" => Op.Add,
        "remove" => Op.Remove,
        "add_sock" => Op.AddSock,
        "remove_sock" => Op.RemoveSock,
        _ => Op.QueryPci,
    };

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"vio4wdctl: {message}")).ConfigureAwait(false);
        return 1;
    }
}
