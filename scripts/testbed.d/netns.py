"""Small helpers around `ip netns`, processes and the listening-socket table, shared by bed.py and check.py."""

import os
import signal
import subprocess
import time


def run(argv, check=True, capture=False, ns=None, timeout=60, input_bytes=None):
    """Run a command (inside namespace `ns` when given); raise with its stderr on failure when `check`."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    res = subprocess.run(argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         stderr=subprocess.PIPE, timeout=timeout, input=input_bytes)
    if check and res.returncode != 0:
        raise RuntimeError(f"command failed ({res.returncode}): {' '.join(argv)}\n"
                           f"{res.stderr.decode(errors='replace').strip()}")
    return res.stdout.decode(errors="replace") if capture else res.returncode


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def ns_pids(ns):
    """Pids of every process whose network namespace is `ns` (the bed's own processes)."""
    if not ns_exists(ns):
        return []
    out = run(["ip", "netns", "pids", ns], check=False, capture=True)
    return [int(p) for p in out.split() if p.isdigit()]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pids(pids, grace=4.0):
    """SIGTERM each pid, wait up to `grace` seconds, then SIGKILL what is left. Only the pids given."""
    pids = [p for p in pids if p > 1 and p != os.getpid()]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    left = [p for p in pids if pid_alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def listeners(ns):
    """Set of (address, port) TCP listeners in `ns`; address is '*' for a wildcard bind."""
    out = run(["ss", "-Hltn"], ns=ns, capture=True, check=False)
    found = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        local = cols[3]
        addr, _, port = local.rpartition(":")
        addr = addr.strip("[]")
        if "%" in addr:
            addr = addr.split("%", 1)[0]
        if addr in ("0.0.0.0", "::", "*"):
            addr = "*"
        if port.isdigit():
            found.add((addr, int(port)))
    return found


def iface_mac(ns, iface):
    out = run(["cat", f"/sys/class/net/{iface}/address"], ns=ns, capture=True, check=False)
    return out.strip()
