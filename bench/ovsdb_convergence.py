#!/usr/bin/python3
"""make bench, part 2: how long from `ovs-vsctl ... external_ids:virtio_forwarder=1` to a ready relay.

A private ovsdb-server, the daemon (no hugepages, one worker) and one testpmd holding 30 VMs
(net_virtio_user ports, already connected to their relays' sockets). For each of 30 relays in turn
the bench runs the user's ovs-vsctl command naming a net_null VF and measures, from just before
ovs-vsctl starts, until the daemon's control API reports the relay Ready (VF attached and the VM
connected) and until the Interface row says virtio_forwarder_state=ready. p50 and p99 of both.
Environment: BENCH_RELAYS (default 30).
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.path.join(ROOT, "out", "bin", "virtio-forwarder")
RELAYS = int(os.environ.get("BENCH_RELAYS", "30"))


class Control:
    """The daemon's control API: JSON-RPC with Content-Length framing (StreamJsonRpc's default)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def call(self, method, params=None):
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or []}).encode()
        self.next_id += 1
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0].split(b":")[1])
                if len(rest) >= length:
                    self.buf = rest[length:]
                    return json.loads(rest[:length])["result"]
            self.buf += self.sock.recv(1 << 20)

    def ready(self, relay):
        return any(r["Id"] == relay and r["Ready"] for r in self.call("StatusAsync"))


def wait(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.002)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def main():
    work = tempfile.mkdtemp(prefix="vio4wd-bench-ovsdb.")
    prefix, vm_prefix = f"vio4wd-bench-ovsdb-{os.getpid()}", f"vio4wd-bench-vms-{os.getpid()}"
    procs = []
    try:
        db, sock = os.path.join(work, "conf.db"), os.path.join(work, "db.sock")
        subprocess.run(["ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"], check=True)
        procs.append(subprocess.Popen(["ovsdb-server", db, f"--remote=punix:{sock}", f"--unixctl={work}/ovsdb.ctl",
                                       "--no-chdir", f"--log-file={work}/ovsdb.log", "-vconsole:off"]))
        wait("ovsdb-server", lambda: os.path.exists(sock))
        vsctl = ["ovs-vsctl", f"--db=unix:{sock}", "--no-wait", "--timeout=10"]
        subprocess.run(vsctl + ["init", "--", "add-br", "br0"], check=True)

        control_sock = os.path.join(work, "control.sock")
        sockets = os.path.join(work, "sockets")
        with open(os.path.join(work, "daemon.log"), "w") as log:
            procs.append(subprocess.Popen([DAEMON, "--nodaemon", "--loglevel", "4", "-C", "1", "-V", sockets, "-O", f"unix:{sock}",
                                           "--allow-runtime-devargs",
                                           "--pid-path", work, "--control-sock", control_sock, "--eal-args",
                                           f"--no-huge -m 1024 --no-pci --file-prefix={prefix}"], stdout=log, stderr=subprocess.STDOUT))
            wait("the daemon", lambda: os.path.exists(control_sock))
        # The control socket answers before the relays' sockets exist; the VMs need those.
        wait("the relays' sockets", lambda: all(os.path.exists(f"{sockets}/virtio-forwarder{i}.sock") for i in range(RELAYS)))
        vdevs = []
        for i in range(RELAYS):
            vdevs += ["--vdev", f"net_virtio_user{i},path={sockets}/virtio-forwarder{i}.sock"]
        with open(os.path.join(work, "vms.log"), "w") as log:
            procs.append(subprocess.Popen(["dpdk-testpmd", "-l", "0,1", "--no-pci", "--no-huge", "-m", "1024", "--single-file-segments",
                                           f"--file-prefix={vm_prefix}"] + vdevs +
                                          ["--", "--forward-mode=rxonly", "--auto-start", "--stats-period=3600", f"--total-num-mbufs={2048 * RELAYS}"],
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        control = Control(control_sock)
        wait("the VMs", lambda: sum(1 for r in control.call("StatusAsync")
                                    for c in r["Conditions"] if c["Type"] == "VhostConnected" and c["Status"] == "True") >= RELAYS)

        to_ready, to_row = [], []
        for i in range(RELAYS):
            start = time.monotonic()
            subprocess.run(vsctl + ["add-port", "br0", f"eth{i}", "--", "set", "interface", f"eth{i}", "external_ids:virtio_forwarder=1",
                                    f"external_ids:virtio_forwarder_dev=net_null{i}", f"external_ids:virtio_forwarder_relay={i}"], check=True)
            wait(f"relay {i} ready", lambda: control.ready(i))
            to_ready.append(time.monotonic() - start)
            wait(f"eth{i} row ready", lambda: subprocess.run(vsctl + ["get", "interface", f"eth{i}", "external_ids:virtio_forwarder_state"],
                                                             capture_output=True, text=True).stdout.strip() == "ready")
            to_row.append(time.monotonic() - start)

        print(f"OVSDB convergence over {RELAYS} relays (ovs-vsctl start to ready), milliseconds:")
        print(f"  {'':28} {'p50':>8} {'p99':>8} {'max':>8}")
        for name, values in (("vio4wdctl/control API ready", to_ready), ("row virtio_forwarder_state", to_row)):
            ms = [v * 1000 for v in values]
            print(f"  {name:28} {statistics.median(ms):8.1f} {percentile(ms, 99):8.1f} {max(ms):8.1f}")
        print("  (the row is polled with ovs-vsctl, a process per look: its figures include that)")
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for p in (prefix, vm_prefix):
            shutil.rmtree(f"/var/run/dpdk/{p}", ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
