"""`scripts/testbed check`: the bed's smoke test, with kernel sockets and raw SYNs from the scanner namespace.

Every real server must answer its ground-truth handshake with bytes the original would label as the truth says
(fingerprint.py); every middlebox must show its behaviour (RST, FIN, window 0, SYN-ACK retransmission, ICMP,
unacknowledged data...). Without --name it brings a bed up, checks it, takes it down and verifies nothing is left
(namespaces, processes, run directory). Ends with the plain 'N passed, N failed' line.
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bed  # noqa: E402
import fingerprint  # noqa: E402
import netns  # noqa: E402
import probes  # noqa: E402


def grab(scan_ns, jobs):
    out = subprocess.run(["ip", "netns", "exec", scan_ns, "/usr/bin/python3", os.path.join(HERE, "grab.py")],
                         input=json.dumps(jobs).encode(), capture_output=True, timeout=120)
    if out.returncode != 0:
        raise bed.BedError(f"grab.py failed: {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout)


def tcp(row, payload, wait=2.0):
    return {"type": "tcp", "addr": row["addr"], "port": row["port"], "payload_hex": payload.hex(), "wait": wait}


def syn(row, listen=2.5):
    return {"type": "syn", "addr": row["addr"], "port": row["port"], "listen": listen}


def is_reset(r):
    # The RST may land before a non-blocking connect() is reaped: connect then reports ECONNRESET itself.
    if r.get("connect") == "error:104":
        return True
    return r.get("connect") == "ok" and (r.get("end") == "reset" or r.get("end") in ("error:104", "error:32"))


def synacks(r):
    return [s for s in r.get("seen", []) if s["kind"] == "synack"]


def plan(row):
    """Jobs for one target and a function judging their results: returns (ok, detail)."""
    http = probes.http(row["addr"])
    if row["kind"] == "service":
        payload = probes.probe(row["handshake"], row["addr"])

        def judge(res):
            r = res[0]
            data = bytes.fromhex(r.get("data_hex", ""))
            if row["outcome"] == "fin":
                return r.get("end") == "eof" and not data, f"end={r.get('end')} {len(data)} bytes"
            label = fingerprint.fingerprint(data, [row["handshake"]])
            return label == row["expect"], f"label {label} from {len(data)} bytes {data[:32]!r}"
        return [tcp(row, payload)], judge
    b = row["behaviour"]
    if b == "synproxy" and row["port"] == 80:
        # The real server behind the proxy: a kernel connection gets through; a bare SYN gets the proxy's
        # zero-window SYN-ACK, which is all lzr (like the original) ever sees.
        def judge(res):
            label = fingerprint.fingerprint(bytes.fromhex(res[0].get("data_hex", "")), ["http"])
            sa = synacks(res[1])
            ok = label == "http" and sa != [] and all(s["window"] == 0 for s in sa)
            return ok, f"label {label}, syn-acks {sa}"
        return [tcp(row, http), syn(row, 1.0)], judge
    if b in ("rst", "rst_on_data", "synproxy"):
        def judge(res):
            ok = is_reset(res[0])
            detail = f"connect={res[0].get('connect')} end={res[0].get('end')}"
            if b == "rst_on_data":
                ok = ok and res[1].get("end") == "silent"
                detail += f"; without data: {res[1].get('end')}"
            if b == "synproxy":
                sa = synacks(res[1])
                ok = ok and sa != [] and all(s["window"] == 0 for s in sa)
            return ok, detail
        jobs = [tcp(row, http)]
        if b == "rst_on_data":
            jobs.append(tcp(row, b"", wait=1.0))
        if b == "synproxy":
            jobs.append(syn(row, 1.0))
        return jobs, judge
    if b == "zero_window":
        def judge(res):
            sa = synacks(res[0])
            return bool(sa) and all(s["window"] == 0 for s in sa), f"syn-acks {sa}"
        return [syn(row, 1.0)], judge
    if b in ("data_not_acked", "sink", "acking_firewall"):
        def judge(res):
            r = res[0]
            silent = r.get("connect") == "ok" and r.get("end") == "silent"
            acked = r.get("unacked", -1) == 0
            want_acked = b != "data_not_acked"
            return silent and acked == want_acked, \
                f"connect={r.get('connect')} end={r.get('end')} unacked={r.get('unacked')}"
        return [tcp(row, http, wait=2.5)], judge
    if b == "synack_retransmitted":
        def judge(res):
            n = len(synacks(res[0]))
            return n >= 2, f"{n} syn-acks in 2.5 s"
        return [syn(row, 2.5)], judge
    if b in ("filtered", "absent"):
        def judge(res):
            return res[0].get("seen") == [], f"seen {res[0].get('seen')}"
        return [syn(row, 1.5)], judge
    if b == "closed":
        def judge(res):
            return res[0].get("connect") == "refused", f"connect={res[0].get('connect')}"
        return [tcp(row, http)], judge
    if b == "icmp_prohibited":
        def judge(res):
            kinds = [s["kind"] for s in res[0].get("seen", [])]
            return kinds == ["icmp:3/13"], f"seen {kinds}"
        return [syn(row, 1.0)], judge
    if b == "fin":
        def judge(res):
            r = res[0]
            return r.get("end") == "eof" and not r.get("data_hex"), f"end={r.get('end')}"
        return [tcp(row, http)], judge
    if b == "echo":
        def judge(res):
            data = bytes.fromhex(res[0].get("data_hex", ""))
            return len(data) > 0 and http.startswith(data), f"{len(data)} bytes reflected"
        return [tcp(row, http)], judge
    if b == "chargen":
        def judge(res):
            data = bytes.fromhex(res[0].get("data_hex", ""))
            label = fingerprint.fingerprint(data, ["http"])
            return len(data) > 0 and label == "unknown", f"{len(data)} bytes, label {label}"
        return [tcp(row, http)], judge
    raise bed.BedError(f"no check for behaviour {b!r}")


def check_tap(state):
    """With --link tap: the tap's kernel end is the bed (it answers ARP for a service address through it)."""
    code = f"""
import fcntl, os, select, struct, sys
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'{state['tap_if']}', 0x0002 | 0x1000 | 0x0100))
mac = bytes.fromhex('{state['scan_mac'].replace(':', '')}')
arp = b'\\xff' * 6 + mac + b'\\x08\\x06' + bytes.fromhex('0001080006040001') + mac + bytes([198, 18, 0, 2]) \\
    + b'\\0' * 6 + bytes([198, 18, 1, 1])
os.write(fd, arp)
end = __import__('time').monotonic() + 2
while __import__('time').monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        f = os.read(fd, 2048)
        if f[12:14] == b'\\x08\\x06' and f[20:22] == b'\\x00\\x02' and f[28:32] == bytes([198, 18, 1, 1]):
            print('arp-reply'); sys.exit(0)
sys.exit(1)
"""
    r = subprocess.run(["ip", "netns", "exec", state["bed_ns"], "/usr/bin/python3", "-c", code],
                       capture_output=True, timeout=20)
    return r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace").strip()[-200:]


def run_checks(state):
    rows = bed.truth_rows(state["profile"])
    plans = [plan(row) for row in rows]
    jobs = [j for js, _ in plans for j in js]
    t0 = time.monotonic()
    results = grab(state["scan_ns"], jobs)
    passed = failed = 0
    i = 0
    for row, (js, judge) in zip(rows, plans):
        ok, detail = judge(results[i:i + len(js)])
        i += len(js)
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {row['addr']:>14}:{row['port']:<6} {row['server']:<20} "
              f"{row['expect']:<22} {detail}")
    if state["link"] == "tap":
        ok, detail = check_tap(state)
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  tap {state['tap_if']}: ARP through the tap answered by the bed: {detail}")
    print(f"# {len(jobs)} probes in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return passed, failed


def leftovers(state):
    problems = []
    listed = netns.run(["ip", "netns", "list"], capture=True, check=False)
    for ns in (state["scan_ns"], state["bed_ns"]):
        if ns in listed.split():
            problems.append(f"namespace {ns} left")
    for pid in state["procs"].values():
        if netns.pid_alive(pid):
            problems.append(f"pid {pid} alive")
    if os.path.exists(state["run_dir"]):
        problems.append(f"{state['run_dir']} left")
    links = netns.run(["ip", "-o", "link"], capture=True, check=False)
    for ifc in (state["scan_if"], state["bed_if"], state["tap_if"]):
        if f" {ifc}:" in links or f" {ifc}@" in links:
            problems.append(f"interface {ifc} in the root namespace")
    if "lzrbed" in netns.run(["nft", "list", "tables"], capture=True, check=False):
        problems.append("an lzrbed nftables table in the root namespace")
    return problems


def main(args):
    if args.name:
        passed, failed = run_checks(bed.load_state(args.name))
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 else 1
    name = f"lzrchk{os.getpid()}"[:13]
    up_args = type("A", (), dict(name=name, profile=args.profile, link=args.link, neigh="static", scan_mac=None,
                                 timeout=50.0, print_env=False, keep_on_failure=False))
    bed.cmd_up(up_args)
    state = bed.load_state(name)
    try:
        passed, failed = run_checks(state)
    finally:
        t0 = time.monotonic()
        bed.teardown(state)
        print(f"testbed {name}: down in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    problems = leftovers(state)
    for p in problems:
        print(f"FAIL  teardown: {p}")
    if not problems:
        print("PASS  teardown: no namespace, process, interface, rule or run directory left")
    passed += not problems
    failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
