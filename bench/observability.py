#!/usr/bin/python3
"""make bench, part 4: what observing the daemon costs.

The daemon with 64 static relays (net_null VFs; VIRTIOFWD_MAX_RELAYS 64, so every relay has its
device) and its metrics listener on; then
- `vio4wdctl status` wall time, the installed (ReadyToRun, self-contained) CLI from `make
  publish`, next to `vio4wdctl --help` (the .NET runtime's own start, the floor) measured in the
  same run; 150 ms is the target, about 750 ms was the figure before it had its own client;
- the daemon CPU one scrape of /metrics costs: CPU time of the daemon's threads except the
  DPDK workers (which poll whatever happens) over many scrapes, per scrape; target < 10 ms.
Environment: BENCH_CTL_RUNS (default 21), BENCH_SCRAPES (default 1000).
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.path.join(ROOT, "out", "bin", "virtio-forwarder")
CTL = os.path.join(ROOT, "out", "publish", "vio4wdctl")
CTL_RUNS = int(os.environ.get("BENCH_CTL_RUNS", "21"))
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "1000"))
RELAYS = 64
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wall(args, env):
    started = time.monotonic()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - started


def control_cpu_seconds(pid):
    """CPU of the daemon's threads but its DPDK workers (lcore-worker-N), which busy-poll."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                if f.read().startswith(("rte-worker", "lcore-worker")):
                    continue
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total / TICK


def wait_for(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.05)


def main():
    if not os.path.exists(CTL):
        raise SystemExit(f"bench: {CTL} is missing (make publish)")
    work = tempfile.mkdtemp(prefix="vio4wd-bench-obs-")
    prefix = f"vio4wd-bench-obs-{os.getpid()}"
    port = free_port()
    control = os.path.join(work, "control.sock")
    vfs = [arg for i in range(RELAYS) for arg in ("-P", f"net_null{i}={i}")]
    daemon = subprocess.Popen(
        [DAEMON, "--nodaemon", "-C", "1", "-V", os.path.join(work, "sockets"), "-p", work, "--control-sock", control,
         "-O", f"unix:{work}/no-ovsdb.sock", "--metrics-address", str(port), "--max-relays", str(RELAYS),
         "--eal-args", f"--no-huge -m 1024 --no-pci --file-prefix={prefix}"] + vfs,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, VIO4WD_CONTROL_SOCK=control, DOTNET_EnableDiagnostics="0")
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        def ready():
            try:
                subprocess.run([CTL, "wait", "--all", "--for", "condition=DeviceReady", "--timeout", "1s"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                urllib.request.urlopen(url, timeout=5).read()
                return True
            except (subprocess.CalledProcessError, OSError):
                return False
        wait_for(ready, f"{RELAYS} relays with their devices and the metrics listener")

        floor, status = [], []
        for _ in range(CTL_RUNS):  # interleaved, so both see the same machine
            floor.append(wall([CTL, "--help"], env))
            status.append(wall([CTL, "status"], env))

        for _ in range(20):  # warm the scrape path (JIT) before measuring it
            urllib.request.urlopen(url, timeout=5).read()
        cpu_before = control_cpu_seconds(daemon.pid)
        started = time.monotonic()
        size = 0
        for _ in range(SCRAPES):
            size = len(urllib.request.urlopen(url, timeout=5).read())
        elapsed = time.monotonic() - started
        cpu = control_cpu_seconds(daemon.pid) - cpu_before
        # The same threads over the same time without scrapes: what they cost anyway.
        idle_before = control_cpu_seconds(daemon.pid)
        time.sleep(elapsed)
        idle = control_cpu_seconds(daemon.pid) - idle_before
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    def ms(values, q):
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000

    per_scrape = max(cpu - idle, 0) / SCRAPES * 1000
    print(f"observability, {RELAYS} relays, {CTL_RUNS} runs of each, interleaved:")
    print(f"  vio4wdctl --help (runtime start, floor)   median {statistics.median(floor) * 1000:5.0f} ms   p90 {ms(floor, 0.9):5.0f} ms")
    print(f"  vio4wdctl status                          median {statistics.median(status) * 1000:5.0f} ms   p90 {ms(status, 0.9):5.0f} ms"
          f"   ({statistics.median(status) / statistics.median(floor):.1f}x the floor; target <= 150 ms, was about 750 ms)")
    print(f"  /metrics scrape, daemon CPU               {per_scrape:5.2f} ms per scrape ({SCRAPES} scrapes of {size // 1024} KiB in {elapsed:.1f} s;"
          f" {per_scrape / RELAYS * 1000:.0f} us per relay; target < 10 ms for 64 relays)")


if __name__ == "__main__":
    main()
