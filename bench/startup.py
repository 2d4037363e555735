#!/usr/bin/python3
"""make bench, part 3: how long the daemon takes to start.

The daemon with 32 static relays (net_null VFs, no hugepages, one worker) and no OVSDB to talk
to (its socket does not exist: the OVSDB source keeps trying while the daemon is ready). From
exec to: the control socket answering a status request, and READY=1 on NOTIFY_SOCKET (systemd's
protocol, which the daemon speaks whenever NOTIFY_SOCKET is set). Median and worst of a few runs.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.path.join(ROOT, "out", "bin", "virtio-forwarder")
STARTS = int(os.environ.get("BENCH_STARTS", "7"))
RELAYS = 32


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


def one_start(work, n):
    prefix = f"vio4wd-bench-start-{os.getpid()}-{n}"
    control = os.path.join(work, "control.sock")
    notify = os.path.join(work, "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify)
    listener.setblocking(False)
    vfs = [arg for i in range(RELAYS) for arg in ("-P", f"net_null{i}={i}")]
    env = dict(os.environ, NOTIFY_SOCKET=notify, DOTNET_EnableDiagnostics="0")
    started = time.monotonic()
    daemon = subprocess.Popen(
        [DAEMON, "--nodaemon", "-C", "1", "-V", os.path.join(work, "sockets"), "-p", work, "--control-sock", control,
         "-O", f"unix:{work}/no-ovsdb.sock", "--eal-args", f"--no-huge -m 1024 --no-pci --file-prefix={prefix}"] + vfs,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    control_at = ready_at = None
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
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        listener.close()
        os.unlink(notify)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    return control_at, ready_at


def main():
    work = tempfile.mkdtemp(prefix="vio4wd-bench-start-")
    try:
        runs = [one_start(work, n) for n in range(STARTS)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    control = [c for c, _ in runs]
    ready = [r for _, r in runs]
    print(f"startup, {RELAYS} static relays, no OVSDB, {STARTS} starts:")
    print(f"  exec -> control socket answers   median {statistics.median(control) * 1000:6.0f} ms   worst {max(control) * 1000:6.0f} ms")
    print(f"  exec -> READY=1                  median {statistics.median(ready) * 1000:6.0f} ms   worst {max(ready) * 1000:6.0f} ms   (target <= 1500 ms)")


if __name__ == "__main__":
    main()
