#!/usr/bin/python3
"""make bench, part 3: how long the daemon takes to start, and what a relay costs in memory.

The daemon with static relays (net_null VFs, one worker) and no OVSDB to talk to (its socket
does not exist: the OVSDB source keeps trying while the daemon is ready). From exec to: the
control socket answering a status request, and READY=1 on NOTIFY_SOCKET (systemd's protocol,
which the daemon speaks whenever NOTIFY_SOCKET is set). Median and worst of a few runs: 32
relays without hugepages, then a full host of 256 relays on 2 MiB hugepages with the default
socket memory (reserved for the run, as the user guide's 1375 pages), where DPDK's telemetry
gives the hugepage memory in use, hence per relay.
Environment: BENCH_STARTS (default 7).
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

import hugepages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.path.join(ROOT, "out", "bin", "virtio-forwarder")
STARTS = int(os.environ.get("BENCH_STARTS", "7"))
RELAYS = 32
HOST_RELAYS = 256
USER_GUIDE_PAGES = 1375


def status_answers(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(path)
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "StatusAsync", "params": []}).encode()
            s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return b"Content-Length" in s.recv(1 << 16)
    except OSError:
        return False


def heap_allocated(prefix):
    """Bytes allocated from DPDK's heaps (all NUMA nodes), from its telemetry socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
        s.recv(1024)
        s.send(b"/eal/heap_list")
        heaps = json.loads(s.recv(1 << 16))["/eal/heap_list"]
        total = 0
        for heap in heaps:
            s.send(f"/eal/heap_info,{heap}".encode())
            total += json.loads(s.recv(1 << 16))["/eal/heap_info"]["Alloc_size"]
        return total


def one_start(work, n, relays=RELAYS, huge_dir=None, extra=()):
    prefix = f"vio4wd-bench-start-{os.getpid()}-{n}"
    control = os.path.join(work, "control.sock")
    notify = os.path.join(work, "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify)
    listener.setblocking(False)
    vfs = [arg for i in range(relays) for arg in ("-P", f"net_null{i}={i}")]
    memory = ["-H", huge_dir, "--eal-args", f"--no-pci --file-prefix={prefix}"] if huge_dir else \
        ["--eal-args", f"--no-huge -m 1024 --no-pci --file-prefix={prefix}"]
    env = dict(os.environ, NOTIFY_SOCKET=notify, DOTNET_EnableDiagnostics="0")
    started = time.monotonic()
    daemon = subprocess.Popen(
        [DAEMON, "--nodaemon", "-C", "1", "-V", os.path.join(work, "sockets"), "-p", work, "--control-sock", control,
         "-O", f"unix:{work}/no-ovsdb.sock", *memory, *extra] + vfs,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    control_at = ready_at = heap = None
    try:
        deadline = started + 60
        while ready_at is None or control_at is None:
            now = time.monotonic()
            if now > deadline or daemon.poll() is not None:
                raise SystemExit("bench: the daemon did not start")
            if control_at is None and os.path.exists(control) and status_answers(control):
                control_at = time.monotonic() - started
            try:
                if b"READY=1" in listener.recv(4096):
                    ready_at = time.monotonic() - started
            except BlockingIOError:
                time.sleep(0.002)
        heap = heap_allocated(prefix)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        listener.close()
        os.unlink(notify)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    return control_at, ready_at, heap


def report(title, runs, target_ms):
    control = [c for c, _, _ in runs]
    ready = [r for _, r, _ in runs]
    print(title)
    print(f"  exec -> control socket answers   median {statistics.median(control) * 1000:6.0f} ms   worst {max(control) * 1000:6.0f} ms")
    print(f"  exec -> READY=1                  median {statistics.median(ready) * 1000:6.0f} ms   worst {max(ready) * 1000:6.0f} ms   (target <= {target_ms} ms)")


def main():
    work = tempfile.mkdtemp(prefix="vio4wd-bench-start-")
    try:
        runs = [one_start(work, n) for n in range(STARTS)]
        report(f"startup, {RELAYS} static relays, no OVSDB, no hugepages, {STARTS} starts:", runs, 1500)
        with hugepages.reserved(USER_GUIDE_PAGES) as huge_dir:
            if huge_dir is None:
                print(f"startup, {HOST_RELAYS} relays: skipped ({USER_GUIDE_PAGES} hugepages of 2 MiB could not be reserved)")
                return
            empty = one_start(work, "empty", relays=0, huge_dir=huge_dir)[2]
            runs = [one_start(work, n, relays=HOST_RELAYS, huge_dir=huge_dir) for n in range(STARTS)]
            report(f"startup, {HOST_RELAYS} static relays, no OVSDB, 2 MiB hugepages, default socket memory, {STARTS} starts:", runs, 2000)
            used = statistics.median(h for _, _, h in runs)
            per_relay = (used - empty) / HOST_RELAYS
            print(f"  hugepage memory in use           {used / 2**20:6.0f} MiB with {HOST_RELAYS} relays, {empty / 2**20:.0f} MiB without: "
                  f"{per_relay / 2**20:.2f} MiB per relay; {HOST_RELAYS} relays fit in {used / 2**21:.0f} of the user guide's {USER_GUIDE_PAGES} pages")
            # Jumbo frames (9 KiB buffers; the socket memory reserves all 1375 pages at start).
            jumbo_empty = one_start(work, "jumbo-empty", relays=0, huge_dir=huge_dir, extra=["--enable-jumbo"])[2]
            _, jumbo_ready, jumbo = one_start(work, "jumbo", relays=HOST_RELAYS, huge_dir=huge_dir, extra=["--enable-jumbo"])
            per_jumbo = (jumbo - jumbo_empty) / HOST_RELAYS
            print(f"  with VIRTIOFWD_JUMBO             READY=1 after {jumbo_ready * 1000:.0f} ms; {jumbo / 2**20:.0f} MiB in use, "
                  f"{per_jumbo / 2**20:.2f} MiB per relay: {HOST_RELAYS} relays in {jumbo / 2**21:.0f} of the {USER_GUIDE_PAGES} pages")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
