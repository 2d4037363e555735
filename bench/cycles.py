#!/usr/bin/python3
"""make bench, part 7: forwarding cost in CPU cycles per packet, relay vs dpdk-testpmd.

One forwarder core (CPU 1), a testpmd VM stand-in (net_virtio_user) on CPU 0, a net_null VF; one
direction at a time: VF -> VM (net_null generates, the VM receives: rxonly) and VM -> VF (the VM
sends: txonly; net_null with no-rx=1 takes). The relay's figure is its worker's busy TSC cycles per
packet over the measuring window (`vio4wdctl top -o json`); testpmd's is its own
(--record-core-cycles: "CPU cycles/packet" of iterations that moved packets, printed at stop). Both
count only polls that moved packets, so the figure does not depend on how the host schedules the VM
stand-in; Mpps at the VM side is printed beside it. Runs alternate, BENCH_PAIRS pairs (default 10);
medians, spread (min-max) and ratios.
Environment: BENCH_WARMUP, BENCH_WINDOW (seconds), BENCH_PAIRS, BENCH_SIZES (e.g. 64,1518), BENCH_DIRECTIONS
(vf_to_vm,vm_to_vf), BENCH_VERBOSE=1 (every pair).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time

from relay_bench import DAEMON, EAL_COMMON, ROOT, Testpmd, in_workdir, stop_daemon

CTL = os.path.join(ROOT, "out", "bin", "vio4wdctl")
WARMUP_S = float(os.environ.get("BENCH_WARMUP", "4"))
WINDOW_S = float(os.environ.get("BENCH_WINDOW", "3"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "10"))
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "64,1518").split(",")]
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
DIRECTIONS = tuple(os.environ.get("BENCH_DIRECTIONS", "vf_to_vm,vm_to_vf").split(","))


def vf_vdev(direction, size):
    return f"net_null0,size={size}" if direction == "vf_to_vm" else "net_null0,no-rx=1"


def vm_packets(vm, direction):
    """Packets the VM received (VF -> VM) or sent (VM -> VF)."""
    return vm.packets("RX-packets" if direction == "vf_to_vm" else "TX-packets", 1)


def start_vm(socket_path, direction, size):
    vm = Testpmd(f"vio4wd-bench-cyc-vm-{os.getpid()}", "0@1,1@0", [f"net_virtio_user0,path={socket_path}"],
                 ["--forward-mode=" + ("rxonly" if direction == "vf_to_vm" else "txonly"), f"--txpkts={size}",
                  "--nb-cores=1", "--auto-start"])
    vm.wait_for("Checking link statuses...")
    return vm


def window_rate(vm, direction):
    first = vm_packets(vm, direction)
    t0 = time.time()
    time.sleep(WINDOW_S)
    return (vm_packets(vm, direction) - first) / (time.time() - t0)


def run_testpmd(work, direction, size):
    fwd = Testpmd(f"vio4wd-bench-cyc-fwd-{os.getpid()}", "0@0,1@1",
                  [vf_vdev(direction, size), f"net_vhost0,iface={work}/vhost.sock"],
                  ["--forward-mode=io", "--nb-cores=1", "--record-core-cycles"])
    vm = None
    try:
        fwd.wait_for("Checking link statuses...")
        fwd.send("start")
        vm = start_vm(f"{work}/vhost.sock", direction, size)
        time.sleep(WARMUP_S)
        fwd.send("clear fwd stats all")
        rate = window_rate(vm, direction)
        mark = len(fwd.pump())
        fwd.send("stop")
        deadline = time.time() + 10
        while not (m := re.search(r"CPU cycles/packet=([\d.]+)", fwd.pump()[mark:])):
            if time.time() > deadline:
                raise RuntimeError("testpmd printed no cycles/packet:\n" + fwd.pump()[-2000:])
            time.sleep(0.05)
        return float(m.group(1)), rate
    finally:
        if vm:
            vm.stop()
        fwd.stop()


def run_vio4wd(work, direction, size):
    prefix = f"vio4wd-bench-cyc-relay-{os.getpid()}"
    sockets = os.path.join(work, "sockets")
    control = os.path.join(work, "control.sock")
    os.makedirs(sockets, exist_ok=True)
    daemon = subprocess.Popen(
        [DAEMON, "-C", "1", "-M", "0", "--nodaemon", "-V", sockets, "-S", "relay%u.sock", "--max-relays", "1",
         "-p", work, "--control-sock", control, "-P", f"{vf_vdev(direction, size)}=0",
         "--eal-args", " ".join(EAL_COMMON + [f"--file-prefix={prefix}"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vm = None
    try:
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(sockets, "relay0.sock")):
            if daemon.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not come up")
            time.sleep(0.1)
        time.sleep(0.5)
        vm = start_vm(os.path.join(sockets, "relay0.sock"), direction, size)
        time.sleep(WARMUP_S)

        # The VM's rate over a window of its own: a window around the vio4wdctl call would
        # include the program's start-up and understate the rate.
        rate = window_rate(vm, direction)
        out = subprocess.run([CTL, "--control-sock", control, "top", "-o", "json", "--interval", f"{WINDOW_S}s"],
                             capture_output=True, text=True, check=True).stdout
        cycles = json.loads(out)["workers"][0]["cyclesPerPacket"]
        return cycles, rate
    finally:
        if vm:
            vm.stop()
        stop_daemon(daemon, prefix)


def spread(values):
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def ratios(ours, base, best):
    """The ratio of the medians, the median of the pairs' ratios (a pair runs back to back) and the
    ratio of each side's best run. Each run on this machine lands on a fast or a slow level (at
    1518 B about 130 or 370 cycles, both forwarders alike), so a median says which level most runs
    landed on; the best runs compare the two where nothing interfered."""
    pairs = [o / b for o, b in zip(ours, base)]
    return (f"{statistics.median(ours) / statistics.median(base):.2f} {statistics.median(pairs):.2f} "
            f"({min(pairs):.2f}-{max(pairs):.2f}) {best(ours) / best(base):.2f}")


def main():
    if not os.access(DAEMON, os.X_OK):
        sys.exit(f"{DAEMON} is missing: run 'make build' first")
    print(f"forwarding cost, relay vs testpmd io: one forwarder core, net_null VF, testpmd VM; {PAIRS} interleaved pairs, "
          f"medians (min-max); ratios: of the medians, the median of the pairs' ratios (min-max), of the best runs\n")
    print(f"{'direction':>9} {'frame':>5}  {'relay cyc/pkt':>21}  {'testpmd cyc/pkt':>21}  {'cyc/pkt ratio':>26}  "
          f"{'relay Mpps':>16}  {'testpmd Mpps':>16}  {'Mpps ratio':>26}")
    for direction in DIRECTIONS:
        for size in SIZES:
            ours, base = [], []
            for _ in range(PAIRS):
                base.append(in_workdir(run_testpmd, direction, size))
                ours.append(in_workdir(run_vio4wd, direction, size))
                if VERBOSE:
                    print(f"  pair: relay {ours[-1][0]:.1f} cyc {ours[-1][1] / 1e6:.2f} Mpps, testpmd {base[-1][0]:.1f} cyc "
                          f"{base[-1][1] / 1e6:.2f} Mpps", flush=True)
            oc, bc = [c for c, _ in ours], [c for c, _ in base]
            orate, brate = [r / 1e6 for _, r in ours], [r / 1e6 for _, r in base]
            print(f"{direction:>9} {size:>5}  {spread(oc):>21}  {spread(bc):>21}  {ratios(oc, bc, min):>26}  "
                  f"{spread(orate):>16}  {spread(brate):>16}  {ratios(orate, brate, max):>26}", flush=True)


if __name__ == "__main__":
    main()
