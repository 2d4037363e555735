#!/usr/bin/python3
"""make bench, part 6: many relays on one worker.

N = 1, 4, 16 relays on one worker CPU (CPU 1), each with a net_null VF (whose RX produces frames
without end); the VMs are one testpmd process (CPU 0) with N net_virtio_user ports receiving
(rxonly). The figure is the aggregate rate the VMs receive (VF -> VM), next to testpmd doing the
same forwarding on CPU 1 (N net_null ports paired with N net_vhost ports, io forwarding),
measured in the same run, the two alternating BENCH_ROUNDS times; medians.

Then the cost of idle relays: one busy relay alone on the worker, and the same relay with 15
idle ones beside it (VM connected, VF a net_ring port nothing is sent to), as the busy relay's
rate with them over its rate alone.
Environment: BENCH_WARMUP, BENCH_WINDOW (seconds), BENCH_ROUNDS, BENCH_SCALE (e.g. 1,4,16).
"""

import os
import statistics
import subprocess
import sys
import time

from relay_bench import DAEMON, EAL_COMMON, Testpmd, in_workdir, stop_daemon

WARMUP_S = float(os.environ.get("BENCH_WARMUP", "5"))
WINDOW_S = float(os.environ.get("BENCH_WINDOW", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
COUNTS = [int(x) for x in os.environ.get("BENCH_SCALE", "1,4,16").split(",")]
IDLE = 15


def vm_rate(vm, ports):
    time.sleep(WARMUP_S)
    first = vm.rx_packets(ports)
    t0 = time.time()
    time.sleep(WINDOW_S)
    return (vm.rx_packets(ports) - first) / (time.time() - t0)


def start_vms(sockets, ports):
    """One testpmd on CPU 0 whose N net_virtio_user ports are the VMs; they only receive."""
    vm = Testpmd(f"vio4wd-bench-vms-{os.getpid()}", "0@1,1@0",
                 [f"net_virtio_user{i},path={s}" for i, s in enumerate(sockets)],
                 ["--forward-mode=rxonly", "--nb-cores=1", "--auto-start"])
    vm.wait_for("Checking link statuses...")
    return vm


def run_testpmd(work, n):
    vdevs = []
    for i in range(n):
        vdevs += [f"net_null{i}", f"net_vhost{i},iface={work}/vhost{i}.sock"]
    fwd = Testpmd(f"vio4wd-bench-fwd-{os.getpid()}", "0@0,1@1", vdevs,
                  ["--forward-mode=io", "--port-topology=paired", "--nb-cores=1", "--auto-start"])
    vm = None
    try:
        fwd.wait_for("Checking link statuses...")
        vm = start_vms([f"{work}/vhost{i}.sock" for i in range(n)], n)
        return vm_rate(vm, n)
    finally:
        if vm:
            vm.stop()
        fwd.stop()


def run_vio4wd(work, vfs):
    """The daemon on CPU 1 with one relay per VF (relay i gets vfs[i]); returns what the VMs receive."""
    prefix = f"vio4wd-bench-scale-{os.getpid()}"
    sockets = os.path.join(work, "sockets")
    os.makedirs(sockets, exist_ok=True)
    args = [a for i, vf in enumerate(vfs) for a in ("-P", f"{vf}={i}")]
    daemon = subprocess.Popen(
        [DAEMON, "-C", "1", "-M", "0", "--nodaemon", "-V", sockets, "-S", "relay%u.sock", "--max-relays", str(len(vfs)),
         *args, "--eal-args", " ".join(EAL_COMMON + [f"--file-prefix={prefix}"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    vm = None
    paths = [os.path.join(sockets, f"relay{i}.sock") for i in range(len(vfs))]
    try:
        deadline = time.time() + 60
        while not all(os.path.exists(p) for p in paths):
            if daemon.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not come up")
            time.sleep(0.1)
        time.sleep(0.5)
        vm = start_vms(paths, len(vfs))
        return vm_rate(vm, len(vfs))
    finally:
        if vm:
            vm.stop()
        stop_daemon(daemon, prefix)


def main():
    if not os.access(DAEMON, os.X_OK):
        sys.exit(f"{DAEMON} is missing: run 'make build' first")
    print(f"relays on one worker: N net_null VFs -> N VMs (one testpmd, rxonly, CPU 0); forwarder on CPU 1; "
          f"64-byte frames, {WINDOW_S:.0f} s windows, {ROUNDS} interleaved rounds, medians\n")
    print(f"{'relays':>6}  {'vio4wd Mpps':>11}  {'testpmd Mpps':>12}  {'ratio':>6}   all runs (vio4wd/testpmd)")
    for n in COUNTS:
        ours, base = [], []
        for _ in range(ROUNDS):
            base.append(in_workdir(run_testpmd, n))
            ours.append(in_workdir(run_vio4wd, [f"net_null{i}" for i in range(n)]))
        o, b = statistics.median(ours), statistics.median(base)
        runs = " ".join(f"{x / 1e6:.2f}/{y / 1e6:.2f}" for x, y in zip(ours, base))
        print(f"{n:>6}  {o / 1e6:>11.2f}  {b / 1e6:>12.2f}  {o / b if b else 0:>6.2f}   {runs}", flush=True)

    alone, crowded = [], []
    for _ in range(ROUNDS):
        alone.append(in_workdir(run_vio4wd, ["net_null0"]))
        crowded.append(in_workdir(run_vio4wd, ["net_null0"] + [f"net_ring{i}" for i in range(1, IDLE + 1)]))
    a, c = statistics.median(alone), statistics.median(crowded)
    print(f"\nidle relays: one busy relay alone {a / 1e6:.2f} Mpps, with {IDLE} idle relays (VMs connected, quiet VFs) "
          f"on the same worker {c / 1e6:.2f} Mpps: {c / a if a else 0:.2f}x")


if __name__ == "__main__":
    main()
