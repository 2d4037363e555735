#!/usr/bin/python3
"""Compatibility suite: port control as the original's virtioforwarder_port_control.py speaks it.

Run by the daemon tests against a real daemon with --dynamic-sockets, a static VF net_null0 on relay 0,
and (test hooks on) PCI addresses 0000:00:01.N standing for vdevs net_nullN+1, since port control
names PCI devices only and this machine has none.
Environment: VIO4WD_ZMQ_DIR, VIO4WD_SOCKET_DIR, VIO4WD_PROTO, VIO4WD_MAX_RELAYS, VIO4WD_TESTPMD_PREFIX.
"""

import os
import shutil
import socket
import tempfile
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vio4wd_zmq import MAX_RELAYS, ZMQ_DIR, exchange, pb  # noqa: E402

SOCKET_DIR = os.environ["VIO4WD_SOCKET_DIR"]

OK, ERROR = pb.PortControlResponse.OK, pb.PortControlResponse.ERROR
Op = pb.PortControlRequest



def pci(text):
    domain, bus, rest = text.split(":")
    slot, function = rest.split(".")
    return pb.PortControlRequest.PciAddress(domain=int(domain, 16), bus=int(bus, 16), slot=int(slot, 16), function=int(function, 16))


def port(op, pcis=(), conditional=False, **fields):
    """As the original tester builds it: conditional always sent (False unless asked)."""
    request = pb.PortControlRequest(op=op, conditional=conditional, **fields)
    for address in pcis:
        request.pci_addrs.append(pci(address))
    return exchange("port_control", request, pb.PortControlResponse)


def outcome(response):
    return (response.status,
            response.error_code if response.HasField("error_code") else None,
            response.error_code_source if response.HasField("error_code_source") else None)


def stats(relay):
    r = exchange("stats", pb.StatsRequest(relay=[relay], delay=200), pb.StatsResponse)
    return r.relay[0]


def start_vm(path, name):
    """A VM stand-in on a vhost-user socket: testpmd with net_virtio_user, echoing what it receives."""
    return subprocess.Popen(["dpdk-testpmd", "-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--single-file-segments",
                             f"--file-prefix={os.environ['VIO4WD_TESTPMD_PREFIX']}-{name}", "--vdev", f"net_virtio_user0,path={path}",
                             "--", "--forward-mode=io", "--auto-start", "--stats-period=3600", "--total-num-mbufs=4096"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_traffic(test, relay):
    """The relay's stats once a thousand more frames went each way than when asked."""
    deadline = time.monotonic() + 60
    first = stats(relay)
    while True:
        s = stats(relay)
        if (s.active and s.vf_to_vm.pkts_tx_to_vm > first.vf_to_vm.pkts_tx_to_vm + 1000
                and s.vm_to_vf.pkts_tx_to_vf > first.vm_to_vf.pkts_tx_to_vf + 1000):
            return s
        test.assertLess(time.monotonic(), deadline, f"traffic through relay {relay}: {s}")
        time.sleep(0.2)


class PortControl(unittest.TestCase):
    def test_1_add_and_remove_follow_the_original_codes(self):
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.0"], virtio_id=5)), (OK, None, None))
        self.assertEqual(stats(5).vf.pci_addr_str, "net_null1")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.0"], virtio_id=5, conditional=True)), (OK, None, None), "conditional: already there")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.0"], virtio_id=5)), (ERROR, 8, "virtio_forwarder_add_vf2()"))
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1"], virtio_id=0)), (ERROR, 8, "virtio_forwarder_add_vf2()"), "relay 0 has the static VF")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1"], virtio_id=MAX_RELAYS)), (ERROR, 1, "virtio_forwarder_add_vf2()"))
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1"])), (ERROR, None, None), "ADD needs virtio_id")
        self.assertEqual(outcome(port(Op.ADD, ["0000:99:00.0"], virtio_id=6)), (ERROR, 2, "virtio_forwarder_add_vf2()"), "no such device")
        self.assertFalse(stats(6).HasField("vf"), "a failed add leaves nothing behind")

        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.1"], virtio_id=5)), (ERROR, 3, "virtio_forwarder_remove_vf2()"))
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.0"], virtio_id=5)), (OK, None, None))
        self.assertFalse(stats(5).HasField("vf"))
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.0"], virtio_id=5)), (ERROR, 4, "virtio_forwarder_remove_vf2()"))
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.0"], virtio_id=5, conditional=True)), (OK, None, None))
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:00.0"], virtio_id=0)), (ERROR, 3, "virtio_forwarder_remove_vf2()"), "not port control's VF")

    def test_2_bonds(self):
        nine = [f"0000:00:02.{i % 8}" if i < 8 else "0000:00:03.0" for i in range(9)]
        self.assertEqual(outcome(port(Op.ADD, nine, virtio_id=7, name="bond9", mode=0)), (ERROR, None, None), "at most 8 addresses")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1", "0000:00:01.2"], virtio_id=7)), (ERROR, None, None), "a bond needs a name")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1"], virtio_id=7, name="b")), (ERROR, None, None), "a named bond needs 2 addresses")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.1", "0000:00:01.2"], virtio_id=7, name="bond7", mode=0)), (OK, None, None))
        self.assertEqual(outcome(port(Op.REMOVE, [], virtio_id=7, name="bond7")), (OK, None, None))

    def test_3_add_sock_traffic_and_remove_sock(self):
        path = os.path.join(SOCKET_DIR, "vm-added.sock")
        self.assertEqual(outcome(port(Op.ADD_SOCK, ["0000:00:01.3"])), (ERROR, -1, "virtio_add_sock_dev_pair()"), "no vhost_path")
        self.assertEqual(outcome(port(Op.ADD_SOCK, ["0000:00:01.3"], vhost_path=path)), (OK, None, None))
        self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode), "server mode: the daemon made the socket")
        self.assertEqual(outcome(port(Op.ADD_SOCK, ["0000:00:01.4"], vhost_path=path)), (ERROR, 1, "virtio_add_sock_dev_pair()"), "socket taken")
        self.assertEqual(outcome(port(Op.ADD_SOCK, ["0000:00:01.3"], vhost_path=path + "2")), (ERROR, -17, "virtio_add_sock_dev_pair()"), "device taken")
        query = port(Op.QUERY_PCI, vhost_path=path)
        self.assertEqual((query.status, query.query_string), (OK, "0000:00:01.3"))
        self.assertEqual(outcome(port(Op.QUERY_PCI, vhost_path="/nonexistent.sock")), (ERROR, 2, "virtio_query_pci()"))
        relay = [r.id for r in exchange("stats", pb.StatsRequest(), pb.StatsResponse).relay if r.vhost.vhost_socket_name == path][0]

        vm = start_vm(path, "added")
        try:
            wait_for_traffic(self, relay)
        finally:
            vm.terminate()
            vm.wait(30)

        self.assertEqual(outcome(port(Op.REMOVE_SOCK, vhost_path="/nonexistent.sock")), (ERROR, 1, "virtio_remove_sock_dev_pair()"))
        self.assertEqual(outcome(port(Op.REMOVE_SOCK)), (ERROR, -1, "virtio_remove_sock_dev_pair()"))
        self.assertEqual(outcome(port(Op.REMOVE_SOCK, ["0000:00:01.3"], vhost_path=path)), (OK, None, None))
        self.assertFalse(os.path.exists(path), "server mode: the socket file goes")
        gone = stats(relay)
        self.assertEqual((gone.vhost.vhost_socket_name, gone.HasField("vf")), ("NONE", False))

    def test_4_bad_requests_get_an_error_and_change_nothing(self):
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.5"], virtio_id=9)), (OK, None, None))
        vm = start_vm(os.path.join(SOCKET_DIR, "virtio-forwarder0.sock"), "relay0")
        try:
            before = wait_for_traffic(self, 0)
            # A socket some other service listens on, outside the socket directory: ADD_SOCK must
            # neither unlink it nor bind there.
            victim_dir = tempfile.mkdtemp(prefix="vio4wd-victim-")
            victim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            victim.bind(os.path.join(victim_dir, "service.sock"))
            victim.listen(1)
            good = pb.PortControlRequest(op=Op.QUERY_PCI, vhost_path="/x.sock").SerializeToString()
            bad = (("garbage", "garbag\u00e9".encode(), None), ("empty frame", b"", None),
                   ("cut in the middle", good[:-2], None), ("1 MB", b"\x0a" * (1 << 20), None),
                   ("two frames", None, [good, good]),
                   ("static VF's relay", pb.PortControlRequest(op=Op.ADD, virtio_id=0, conditional=False, pci_addrs=[pci("0000:00:01.4")]), None),
                   ("virtio_id on ADD_SOCK", pb.PortControlRequest(op=Op.ADD_SOCK, virtio_id=3, vhost_path="/y.sock"), None),
                   ("relative socket path", pb.PortControlRequest(op=Op.ADD_SOCK, vhost_path="vm.sock"), None),
                   ("a socket outside the socket directory", pb.PortControlRequest(op=Op.ADD_SOCK, vhost_path=os.path.join(victim_dir, "service.sock")), None),
                   ("virtio_id 2^31 (not relay -2^31)", pb.PortControlRequest(op=Op.ADD, virtio_id=1 << 31, conditional=False, pci_addrs=[pci("0000:00:01.6")]), None),
                   ("virtio_id 2^32-1", pb.PortControlRequest(op=Op.REMOVE, virtio_id=(1 << 32) - 1, conditional=False, pci_addrs=[pci("0000:00:01.5")]), None))
            for name, payload, frames in bad:
                with self.subTest(name):
                    answer = outcome(exchange("port_control", payload, pb.PortControlResponse, frames=frames))
                    self.assertEqual(answer[0], ERROR)
                    if name.startswith("virtio_id 2^"):
                        self.assertEqual(answer[1], 1, "the original's range error, at once")
            after = wait_for_traffic(self, 0)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(os.path.join(victim_dir, "service.sock"))
                victim.settimeout(10)
                victim.accept()[0].close()  # still the other service's socket, not one the daemon put there
            victim.close()
            shutil.rmtree(victim_dir)
        finally:
            vm.terminate()
            vm.wait(30)
        self.assertGreater(after.vf_to_vm.pkts_tx_to_vm, before.vf_to_vm.pkts_tx_to_vm, "the healthy relay kept forwarding")
        self.assertGreater(after.vm_to_vf.pkts_tx_to_vf, before.vm_to_vf.pkts_tx_to_vf)
        self.assertEqual(after.vf_to_vm.pkts_dropped_vm_not_connected, before.vf_to_vm.pkts_dropped_vm_not_connected, "without losing a packet")
        self.assertEqual(stats(9).vf.pci_addr_str, "net_null6", "the other relay is still there")
        self.assertEqual(outcome(port(Op.ADD, ["0000:00:01.6"], virtio_id=10)), (OK, None, None), "the refused huge id left no claim on its VF")
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.6"], virtio_id=10)), (OK, None, None))
        self.assertEqual(outcome(port(Op.REMOVE, ["0000:00:01.5"], virtio_id=9)), (OK, None, None))

    def test_6_vio4wdctl_port_prints_and_exits_as_the_original_tester(self):
        from google.protobuf import text_format
        ep = f"ipc://{ZMQ_DIR}/port_control"

        def tester(op, pcis=(), conditional=False, **fields):
            """virtioforwarder_port_control.py's output and exit code for one request."""
            r = port(op, pcis, conditional, **fields)
            if r.status != OK:
                return 1, text_format.MessageToString(r)
            return 0, (r.query_string + "\n") if r.query_string else ""

        def ctl(*args):
            p = subprocess.run([os.environ["VIO4WD_CTL"], "port", *args, "--zmq_ep", ep], capture_output=True, text=True)
            if p.stderr:
                print(p.stderr, file=sys.stderr)
            return p.returncode, p.stdout

        path = os.path.join(SOCKET_DIR, "vm-ctl.sock")
        self.assertEqual(ctl("add", "--virtio-id", "11", "--pci-addr", "0000:00:01.6"), (0, ""))
        self.assertEqual(ctl("add", "--virtio-id", "11", "--pci-addr", "0000:00:01.6"), tester(Op.ADD, ["0000:00:01.6"], virtio_id=11))
        self.assertEqual(ctl("add", "--virtio-id", "11", "--pci-addr", "00:01.6", "--conditional"), (0, ""), "bb:ss.f means domain 0")
        self.assertEqual(ctl("remove", "--virtio-id", "11", "--pci-addr", "0000:00:01.6"), (0, ""))
        self.assertEqual(ctl("remove", "--virtio-id", "11", "--pci-addr", "0000:00:01.6"), tester(Op.REMOVE, ["0000:00:01.6"], virtio_id=11))
        self.assertEqual(ctl("add_sock", "--vhost-path", path, "--pci-addr", "0000:00:01.7"), (0, ""))
        self.assertEqual(ctl("query_pci", "--vhost-path", path), (0, "0000:00:01.7\n"))
        self.assertEqual(ctl("query-pci", "--vhost-path", "/nonexistent.sock"), tester(Op.QUERY_PCI, vhost_path="/nonexistent.sock"))
        self.assertEqual(ctl("remove_sock", "--vhost-path", path), (0, ""))
        code, _ = ctl("add", "--virtio-id", "1", "--pci-addr", "not-pci")
        self.assertEqual(code, 1)

    def test_5_the_socket_file_is_for_owner_and_group_only(self):
        import grp
        info = os.stat(f"{ZMQ_DIR}/port_control")
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o660)
        self.assertEqual(grp.getgrgid(info.st_gid).gr_name, "daemon", "the configured group (--control-group)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
