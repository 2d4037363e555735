#!/usr/bin/python3
"""make bench: the relay's forwarding rate next to dpdk-testpmd forwarding the same topology.

Topology, the same for both forwarders:

    peer testpmd (flowgen)                 forwarder                      peer testpmd
    net_memif0 (client)  ---- memif ---->  VF side  (net_memif server)
                                           VM side  (vhost-user server) <---- net_virtio_user0
    and the reverse direction at the same time.

The peer generates on both ports and drains both (testpmd's flowgen engine), so every frame
the peer receives crossed the forwarder once. The forwarder gets CPU 1, the peer CPU 0; each
run measures received frames at the peer over a fixed window after a warm-up. The baseline is
testpmd io-forwarding between a net_memif port and a net_vhost port, measured in the same run;
the two forwarders alternate, ROUNDS times each. Runs on this 2-CPU machine swing between two
levels (about 5.5 and 13-15 Mpps at 64 bytes) for both forwarders alike, so the best run of each
(interference only ever lowers a rate) and the medians are both reported. The warm-up is long because the daemon's first seconds
(.NET tiered compilation on CPU 0, shared with the generator) starve the traffic generator.
Environment: BENCH_WARMUP, BENCH_WINDOW (seconds), BENCH_ROUNDS, BENCH_SIZES (e.g. 64,1518).
"""

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.path.join(ROOT, "out", "bin", "virtio-forwarder")
WARMUP_S = float(os.environ.get("BENCH_WARMUP", "6"))
WINDOW_S = float(os.environ.get("BENCH_WINDOW", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "64,1518").split(",")]
EAL_COMMON = ["--no-huge", "-m", "1024", "--no-pci", "--log-level=lib.eal:warning",
              "--log-level=lib.vhost.config:warning"]


class Testpmd:
    """An interactive testpmd; output collected from a pipe."""

    def __init__(self, prefix, lcores, vdevs, app_args):
        self.prefix = prefix
        cmd = ["stdbuf", "-oL", "dpdk-testpmd", "--lcores", lcores, "--file-prefix", prefix] + EAL_COMMON
        for vdev in vdevs:
            cmd += ["--vdev", vdev]
        cmd += ["--", "-i", "--total-num-mbufs=16384"] + app_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.out = []
        os.set_blocking(self.proc.stdout.fileno(), False)

    def pump(self):
        try:
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.out.append(line)
        except (BlockingIOError, TypeError):
            pass
        return "".join(self.out)

    def wait_for(self, text, timeout=60):
        deadline = time.time() + timeout
        while text not in self.pump():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"testpmd {self.prefix} never printed {text!r}:\n{self.pump()[-3000:]}")
            time.sleep(0.05)

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def rx_packets(self, ports=2):
        """Sum of RX-packets over the first `ports` ports, from 'show port stats all'."""
        return self.packets("RX-packets", ports)

    def packets(self, counter, ports):
        """Sum of a counter (RX-packets, TX-packets) over the first `ports` ports, from 'show port stats all'."""
        before = len(self.pump())
        self.send("show port stats all")
        deadline = time.time() + 10
        while True:
            text = self.pump()[before:]
            counts = re.findall(counter + r": (\d+)", text)
            if len(counts) >= ports and text.count("Tx-bps") >= ports:
                return sum(int(c) for c in counts[:ports])
            if time.time() > deadline:
                raise RuntimeError(f"no port statistics from {self.prefix}:\n{text}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


def measure(peer):
    peer.send("start")
    time.sleep(WARMUP_S)
    first = peer.rx_packets()
    t0 = time.time()
    time.sleep(WINDOW_S)
    last = peer.rx_packets()
    return (last - first) / (time.time() - t0)


def start_peer(work, size, vhost_socket):
    peer = Testpmd(f"vio4wd-bench-peer-{os.getpid()}", "0@1,1@0",
                   [f"net_memif0,role=client,socket={work}/memif.sock",
                    f"net_virtio_user0,path={vhost_socket}"],
                   ["--forward-mode=flowgen", f"--txpkts={size}", "--nb-cores=1"])
    peer.wait_for("Checking link statuses...")
    return peer


def run_testpmd(work, size):
    fwd = Testpmd(f"vio4wd-bench-fwd-{os.getpid()}", "0@0,1@1",
                  [f"net_memif0,role=server,socket={work}/memif.sock",
                   f"net_vhost0,iface={work}/vhost.sock"],
                  ["--forward-mode=io", "--nb-cores=1", "--auto-start"])
    peer = None
    try:
        fwd.wait_for("Checking link statuses...")
        peer = start_peer(work, size, f"{work}/vhost.sock")
        return measure(peer)
    finally:
        if peer:
            peer.stop()
        fwd.stop()


def run_vio4wd(work, size, extra=()):
    prefix = f"vio4wd-bench-relay-{os.getpid()}"
    sockets = os.path.join(work, "sockets")
    os.makedirs(sockets, exist_ok=True)
    daemon = subprocess.Popen(
        [DAEMON, "-C", "1", "-M", "0", "--nodaemon", "-V", sockets, "-S", "relay%u.sock",
         "-P", f"net_memif0,role=server,socket={work}/memif.sock=0",
         "--eal-args", " ".join(EAL_COMMON + [f"--file-prefix={prefix}"]), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peer = None
    try:
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(sockets, "relay0.sock")):
            if daemon.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not come up:\n" + (daemon.stdout.read() if daemon.poll() is not None else ""))
            time.sleep(0.1)
        time.sleep(0.5)
        peer = start_peer(work, size, os.path.join(sockets, "relay0.sock"))
        return measure(peer)
    finally:
        if peer:
            peer.stop()
        stop_daemon(daemon, prefix)


def in_workdir(measure, *args):
    """measure(work, *args) with a temporary directory of its own, removed afterwards."""
    work = tempfile.mkdtemp(prefix="vio4wd-bench-")
    try:
        return measure(work, *args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def stop_daemon(daemon, prefix):
    """SIGTERM, as systemd stops it; its DPDK runtime folder goes with it."""
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def main():
    if not os.access(DAEMON, os.X_OK):
        sys.exit(f"{DAEMON} is missing: run 'make build' first")
    print(f"vio4wd relay vs dpdk-testpmd io forwarding; memif <-> vhost-user, both directions at once;")
    print(f"forwarder on CPU 1, traffic generator (testpmd flowgen) on CPU 0; {WINDOW_S:.0f} s windows, no hugepages\n")
    print(f"{'frame':>6}  {'vio4wd best':>12}  {'testpmd best':>12}  {'ratio':>6}  {'vio4wd median':>14}  {'testpmd median':>14}  {'ratio':>6}   all runs, Mpps (vio4wd/testpmd)")
    for size in SIZES:
        base, ours = [], []
        for _ in range(ROUNDS):
            base.append(in_workdir(run_testpmd, size))
            ours.append(in_workdir(run_vio4wd, size))
        b, o = statistics.median(base), statistics.median(ours)
        bb, ob = max(base), max(ours)
        runs = " ".join(f"{x / 1e6:.2f}/{y / 1e6:.2f}" for x, y in zip(ours, base))
        print(f"{size:>6}  {ob / 1e6:>12.3f}  {bb / 1e6:>12.3f}  {ob / bb if bb else 0:>6.2f}  "
              f"{o / 1e6:>14.3f}  {b / 1e6:>14.3f}  {o / b if b else 0:>6.2f}   {runs}", flush=True)


if __name__ == "__main__":
    main()
