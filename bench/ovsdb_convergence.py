#!/usr/bin/python3
"""make bench, part 2: how long from `ovs-vsctl ... external_ids:virtio_forwarder=1` to a ready relay.

A private ovsdb-server, the daemon (no hugepages, one worker) and one testpmd holding 30 VMs
(net_virtio_user ports, already connected to their relays' sockets). For each of 30 relays in turn
the bench runs the user's ovs-vsctl command naming a net_null VF and measures, from just before
ovs-vsctl starts, until the daemon's control API reports the relay Ready (VF attached and the VM
connected) and until the Interface row says virtio_forwarder_state=ready (seen by an OVSDB monitor
of the bench's own). Then each relay is unplugged (the key removed: until its device is detached),
and all 30 are flagged again in one transaction (until all are Ready). p50, p99 and max, and the
daemon's own trace of each plug and unplug split into its steps (vio4wdctl describe's last change).
Environment: BENCH_RELAYS (default 30), BENCH_VERBOSE=1 (every plug's figure, in order).
"""

import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The daemon as installed (make publish: self-contained, ReadyToRun), not the development build,
# whose first plug would time the JIT compiling the plug path.
DAEMON = os.path.join(ROOT, "out", "publish", "virtio-forwarder")
RELAYS = int(os.environ.get("BENCH_RELAYS", "30"))
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"


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


def wait(what, predicate, timeout=60.0, poll=0.01):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(poll)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def summary(values_s):
    ms = [v * 1000 for v in values_s]
    return f"{statistics.median(ms):8.1f} {percentile(ms, 99):8.1f} {max(ms):8.1f}"


class RowWatcher(threading.Thread):
    """An OVSDB monitor of the bench's own on the Interface table: when each row said
    virtio_forwarder_state=ready (so the daemon's figure is not the only witness)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.ready_at = {}
        self.lock = threading.Lock()
        request = {"method": "monitor", "id": 0,
                   "params": ["Open_vSwitch", None, {"Interface": {"columns": ["name", "external_ids"]}}]}
        self.sock.sendall(json.dumps(request).encode())
        self.start()

    def run(self):
        decoder, buf = json.JSONDecoder(), ""
        while chunk := self.sock.recv(1 << 20):
            now = time.monotonic()
            buf += chunk.decode()
            while buf.strip():
                try:
                    message, end = decoder.raw_decode(buf.lstrip())
                except json.JSONDecodeError:
                    break
                buf = buf.lstrip()[end:]
                if message.get("method") == "echo":
                    self.sock.sendall(json.dumps({"result": message["params"], "id": message["id"]}).encode())
                updates = message.get("result") if message.get("id") == 0 else \
                    message["params"][1] if message.get("method") == "update" else None
                for row in (updates or {}).get("Interface", {}).values():
                    new = row.get("new")
                    if new and dict(new["external_ids"][1]).get("virtio_forwarder_state") == "ready":
                        with self.lock:
                            self.ready_at.setdefault(new["name"], now)
                    elif new:
                        with self.lock:
                            self.ready_at.pop(new["name"], None)

    def ready(self, name):
        with self.lock:
            return self.ready_at.get(name)


def relay(control, i):
    return next((r for r in control.call("StatusAsync") if r["Id"] == i), None)


def add_steps(steps, trace):
    """Each step's milliseconds since the one before, by name (a name seen twice in a trace adds up)."""
    seen = {}
    for before, step in zip(trace["Steps"], trace["Steps"][1:]):
        seen[step["Name"]] = seen.get(step["Name"], 0) + (step["AtMs"] - before["AtMs"]) / 1000
    for name, value in seen.items():
        steps.setdefault(name, []).append(value)


def last_change(control, i, kind, complete=lambda trace: True):
    """The relay's last traced change once it is of `kind` and `complete` (one status call a look)."""
    seen = {}

    def done():
        seen["trace"] = (relay(control, i) or {}).get("LastPlug")
        return seen["trace"] is not None and seen["trace"].get("Kind") == kind and complete(seen["trace"])
    wait(f"relay {i}'s {kind} trace", done)
    return seen["trace"]


def input_after(trace, wall):
    """Seconds from `wall` (time.time() before ovs-vsctl) to the daemon receiving the input (wall clock)."""
    return datetime.datetime.fromisoformat(trace["Started"]).timestamp() - wall


def ready_after(trace, wall):
    """Seconds from `wall` to the relay Ready, by the daemon's trace: its input's arrival plus the
    trace's monotonic milliseconds to Ready."""
    return input_after(trace, wall) + trace["DoneMs"] / 1000


def measure_plugs(vsctl, control, rows):
    ready, row, steps = [], [], {"ovs-vsctl to update received": []}
    for i in range(RELAYS):
        start, wall = time.monotonic(), time.time()
        subprocess.run(vsctl + ["add-port", "br0", f"eth{i}", "--", "set", "interface", f"eth{i}", "external_ids:virtio_forwarder=1",
                                f"external_ids:virtio_forwarder_dev=net_null{i}", f"external_ids:virtio_forwarder_relay={i}"], check=True)
        # Waiting on the bench's own OVSDB monitor, not by asking the daemon: polling its control
        # API would compete with the plug for the daemon's dataplane thread.
        wait(f"eth{i} row ready", lambda: rows.ready(f"eth{i}") is not None, poll=0.001)
        row.append(rows.ready(f"eth{i}") - start)
        trace = last_change(control, i, "plug", lambda t: t.get("RowMs") is not None)  # absent while null (JSON-RPC omits nulls)
        ready.append(ready_after(trace, wall))
        if VERBOSE and i < 3:
            print(f"plug {i}: " + ", ".join(f"{s['Name']} {s['AtMs']:.1f}" for s in trace["Steps"]))
        steps["ovs-vsctl to update received"].append(input_after(trace, wall))
        add_steps(steps, trace)
    return {"ready": ready, "row": row, "steps": steps}


def measure_unplugs(vsctl, control, rows):
    down, steps = [], {}
    for i in range(RELAYS):
        wall = time.time()
        subprocess.run(vsctl + ["remove", "interface", f"eth{i}", "external_ids", "virtio_forwarder"], check=True)
        # The row loses its state once the relay's status changed: the unplug is done by then.
        wait(f"eth{i} row no longer ready", lambda: rows.ready(f"eth{i}") is None, poll=0.001)
        trace = last_change(control, i, "unplug")
        down.append(ready_after(trace, wall))
        add_steps(steps, trace)
    return {"down": down, "steps": steps}


def measure_burst(vsctl, control, rows):
    command = list(vsctl)
    for i in range(RELAYS):
        command += ["--", "set", "interface", f"eth{i}", "external_ids:virtio_forwarder=1"]
    start, wall = time.monotonic(), time.time()
    subprocess.run(command, check=True)
    wait(f"all {RELAYS} rows ready", lambda: all(rows.ready(f"eth{i}") is not None for i in range(RELAYS)), poll=0.001)
    to_rows = max(rows.ready(f"eth{i}") for i in range(RELAYS)) - start
    to_ready = max(ready_after(last_change(control, i, "plug"), wall) for i in range(RELAYS))
    return to_ready, to_rows


def main():
    if not os.access(DAEMON, os.X_OK):
        raise SystemExit(f"bench: {DAEMON} is missing (make publish)")
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
                                          ["--", "-i", f"--total-num-mbufs={2048 * RELAYS}"],
                                          stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT))
        control = Control(control_sock)
        wait("the VMs", lambda: sum(1 for r in control.call("StatusAsync")
                                    for c in r["Conditions"] if c["Type"] == "VhostConnected" and c["Status"] == "True") >= RELAYS)

        rows = RowWatcher(sock)
        plugs = measure_plugs(vsctl, control, rows)
        unplugs = measure_unplugs(vsctl, control, rows)
        burst = measure_burst(vsctl, control, rows)

        print(f"OVSDB plug latency over {RELAYS} relays, milliseconds (p50 / p99 / max):")
        for name, values in (("ovs-vsctl to relay Ready", plugs["ready"]), ("ovs-vsctl to row ready", plugs["row"]),
                             ("unplug: ovs-vsctl to device detached", unplugs["down"])):
            print(f"  {name:40} {summary(values)}")
            if VERBOSE:
                print("    each: " + " ".join(f"{v * 1000:.1f}" for v in values))
        print(f"  {'burst: ' + str(RELAYS) + ' rows in one transaction to all Ready':40} {burst[0] * 1000:8.1f}")
        print(f"  {'burst: ' + str(RELAYS) + ' rows in one transaction to all rows ready':40} {burst[1] * 1000:8.1f}")
        print("  (Ready and down from the daemon's trace, its input's arrival in wall-clock time plus monotonic steps; the rows\n"
              "   seen by an OVSDB monitor of the bench's own; nothing polls the daemon while it works)")
        for title, steps in (("plug", plugs["steps"]), ("unplug", unplugs["steps"])):
            print(f"\n{title} step by step (the daemon's trace, vio4wdctl describe), milliseconds since the step before:")
            for name, values in steps.items():
                print(f"  {name:40} {summary(values)}")
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
