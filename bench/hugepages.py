"""2 MiB hugepages for a bench run: reserved and mounted for the run, put back afterwards.

This machine kind has none configured; a host that has them keeps its own. Needs root.
"""

import contextlib
import os
import subprocess
import tempfile

NR = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
FREE = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"


def _read(path):
    with open(path) as f:
        return int(f.read())


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


@contextlib.contextmanager
def reserved(pages):
    """Yields a hugetlbfs mount point with at least `pages` free 2 MiB pages, or None if that
    cannot be had (not root, not enough memory)."""
    if os.geteuid() != 0 or not os.path.exists(NR):
        yield None
        return
    before = _read(NR)
    missing = max(0, pages - _read(FREE))
    mount = tempfile.mkdtemp(prefix="vio4wd-bench-huge-")
    mounted = False
    try:
        if missing:
            _write(NR, before + missing)
        if _read(FREE) < pages:
            yield None
            return
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", mount], check=True)
        mounted = True
        yield mount
    finally:
        if mounted:
            subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)
        if missing:
            _write(NR, before)
