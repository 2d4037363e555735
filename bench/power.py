#!/usr/bin/python3
"""make bench, part 5: power-aware polling (VIRTIOFWD_IDLE_SLEEP_MAX_US) against always-poll.

- Idle cost: one relay, its VM connected (testpmd, rxonly) and its VF silent (net_null with no-rx):
  the worker thread's CPU over BENCH_IDLE_S seconds, for each back-off bound. Target <= 5 %.
- Latency at low rate: ping (100 per second, BENCH_PINGS of them) across the
  relay: a kernel tap as the VF in one network namespace, testpmd io-forwarding the VM's
  virtio-net port to a tap in another; RTT p50 and p99 with and without back-off.
- Throughput under load: the relay with back-off next to the relay always polling and next to
  testpmd io forwarding, as relay_bench.py measures them (memif <-> vhost-user, both
  directions, interleaved rounds; BENCH_ROUNDS, BENCH_SIZES, BENCH_WINDOW as there).
Environment: BENCH_BACKOFFS (default 50,250,1000 us), BENCH_IDLE_S (default 10), BENCH_PINGS (default 1000).
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_bench  # noqa: E402  (the throughput topology and its testpmd driver)

ROOT = relay_bench.ROOT
DAEMON = relay_bench.DAEMON
BACKOFFS = [int(x) for x in os.environ.get("BENCH_BACKOFFS", "50,250,1000").split(",")]
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "10"))
PINGS = int(os.environ.get("BENCH_PINGS", "1000"))
TICK = os.sysconf("SC_CLK_TCK")
EAL = " ".join(relay_bench.EAL_COMMON)


def worker_ticks(pid):
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                if not f.read().startswith(("rte-worker", "lcore-worker")):
                    continue
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    raise RuntimeError("no worker thread")


def start_daemon(work, name, backoff, vf, extra=()):
    prefix = f"vio4wd-bench-power-{name}-{os.getpid()}"
    sockets = os.path.join(work, "sockets")
    os.makedirs(sockets, exist_ok=True)
    daemon = subprocess.Popen(
        [DAEMON, "-C", "1", "-M", "0", "--nodaemon", "-V", sockets, "-S", "relay%u.sock", "-P", f"{vf}=0",
         "--idle-sleep-max-us", str(backoff), "--eal-args", f"{EAL} --file-prefix={prefix}", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(sockets, "relay0.sock")):
        if daemon.poll() is not None or time.time() > deadline:
            raise RuntimeError("the daemon did not come up")
        time.sleep(0.1)
    return daemon, prefix, os.path.join(sockets, "relay0.sock")


def idle_cpu(backoff):
    work = tempfile.mkdtemp(prefix="vio4wd-bench-power-")
    daemon, prefix, sock = start_daemon(work, "idle", backoff, "net_null0,no-rx=1")
    vm = relay_bench.Testpmd(f"vio4wd-bench-power-vm-{os.getpid()}", "0@0,1@0", [f"net_virtio_user0,path={sock}"],
                             ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"])
    try:
        vm.wait_for("Checking link statuses...")
        time.sleep(2)
        before = worker_ticks(daemon.pid)
        time.sleep(IDLE_S)
        return (worker_ticks(daemon.pid) - before) / TICK / IDLE_S
    finally:
        vm.stop()
        relay_bench.stop_daemon(daemon, prefix)
        shutil.rmtree(work, ignore_errors=True)


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def ping_rtts(backoff):
    """RTTs (us) of PINGS pings at 100 per second across the relay."""
    tag = f"{os.getpid() % 10000}"
    host_ns, vm_ns = f"vpb{tag}h", f"vpb{tag}v"
    vf_tap, vm_tap = f"vpb{tag}a", f"vpb{tag}b"
    work = tempfile.mkdtemp(prefix="vio4wd-bench-power-")
    daemon = vm = None
    prefix = ""
    try:
        daemon, prefix, sock = start_daemon(work, "ping", backoff, f"net_tap0,iface={vf_tap}")
        vm = relay_bench.Testpmd(f"vio4wd-bench-power-pingvm-{os.getpid()}", "0@0,1@0",
                                 [f"net_virtio_user0,path={sock}", f"net_tap1,iface={vm_tap}"],
                                 ["--forward-mode=io", "--nb-cores=1", "--auto-start"])
        vm.wait_for("Checking link statuses...")
        for ns, tap, addr in ((host_ns, vf_tap, "10.198.0.1/24"), (vm_ns, vm_tap, "10.198.0.2/24")):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", tap, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", addr, "dev", tap)
            sh("ip", "-n", ns, "link", "set", tap, "up")
        sh("ip", "netns", "exec", vm_ns, "ping", "-c", "20", "-i", "0.05", "-W", "2", "10.198.0.1", check=False)  # warm
        out = sh("ip", "netns", "exec", vm_ns, "ping", "-c", str(PINGS), "-i", "0.01", "-W", "1", "10.198.0.1", check=False)
        rtts = [float(m) * 1000 for m in re.findall(r"time=([0-9.]+) ms", out)]
        if len(rtts) < PINGS * 0.9:
            raise RuntimeError(f"only {len(rtts)} of {PINGS} pings came back:\n{out[-1000:]}")
        return rtts
    finally:
        if vm:
            vm.stop()
        if daemon:
            relay_bench.stop_daemon(daemon, prefix)
        for ns in (host_ns, vm_ns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def pct(values, q):
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main():
    if not os.access(DAEMON, os.X_OK):
        sys.exit(f"{DAEMON} is missing: run 'make build' first")
    print("power-aware polling: VIRTIOFWD_IDLE_SLEEP_MAX_US against always-poll (0)\n")
    print(f"idle worker CPU, one connected VM, silent VF, {IDLE_S:.0f} s (target <= 5 %):")
    for backoff in [0] + BACKOFFS:
        print(f"  max sleep {backoff:>5} us   {idle_cpu(backoff) * 100:6.1f} % of the worker's CPU", flush=True)

    print(f"\nping RTT across the relay, {PINGS} pings at 100/s (tap <-> relay <-> testpmd <-> tap):")
    base = ping_rtts(0)
    print(f"  always poll          p50 {statistics.median(base):7.0f} us   p99 {pct(base, 0.99):7.0f} us", flush=True)
    for backoff in BACKOFFS:
        r = ping_rtts(backoff)
        print(f"  max sleep {backoff:>5} us   p50 {statistics.median(r):7.0f} us   p99 {pct(r, 0.99):7.0f} us"
              f"   (added: p50 {statistics.median(r) - statistics.median(base):+5.0f} us, p99 {pct(r, 0.99) - pct(base, 0.99):+5.0f} us)", flush=True)

    print(f"\nthroughput under load, Mpps at the peer, medians of {relay_bench.ROUNDS} interleaved rounds:")
    for size in relay_bench.SIZES:
        base, poll, back = [], [], []
        for _ in range(relay_bench.ROUNDS):
            work = tempfile.mkdtemp(prefix="vio4wd-bench-")
            try:
                base.append(relay_bench.run_testpmd(work, size))
                poll.append(relay_bench.run_vio4wd(work, size))
                back.append(relay_bench.run_vio4wd(work, size, ["--idle-sleep-max-us", str(max(BACKOFFS))]))
            finally:
                shutil.rmtree(work, ignore_errors=True)
        b, p, k = (statistics.median(x) for x in (base, poll, back))
        print(f"  {size:>5} B   testpmd {b / 1e6:6.2f}   always poll {p / 1e6:6.2f} ({p / b:.2f}x)"
              f"   back-off {max(BACKOFFS)} us {k / 1e6:6.2f} ({k / b:.2f}x; target >= 0.95x)", flush=True)


if __name__ == "__main__":
    main()
