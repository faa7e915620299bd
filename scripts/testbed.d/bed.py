"""scripts/testbed: bring the lzr test bed up, down, list it, or smoke-test it. See docs/testbed.md.

Layout (veth link):
    [NAME-scan]  NAMEs 198.18.0.1/15 (kernel; lzr sends from 198.18.0.2, which no kernel owns)
        | veth, offloads off
    [NAME-bed]   NAMEb 198.18.0.254/15 + 198.18.1.N/32 (real servers) + 198.18.2.N/32 (middleboxes),
                 the nftables middlebox rules, every server process
With --link tap the bed also holds a persistent multi-queue tap NAMEt (route 198.18.0.2/32 via it); lzr opens it
with DPDK's net_tap from inside NAME-bed, so the tap's kernel end is the bed itself.
State lives in /run/lzr-testbed/NAME/: state.json (namespaces, pids), truth.jsonl (ground truth), env, logs/.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import catalogue as cat  # noqa: E402
import launchers  # noqa: E402
import netns  # noqa: E402
import rules  # noqa: E402

RUN_ROOT = "/run/lzr-testbed"
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,12}$")


class BedError(Exception):
    pass


def run_dir(name):
    return os.path.join(RUN_ROOT, name)


def load_state(name):
    try:
        with open(os.path.join(run_dir(name), "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        raise BedError(f"no bed named {name!r} (no {run_dir(name)}/state.json)")


def save_state(state):
    p = os.path.join(state["run_dir"], "state.json")
    with open(p + ".tmp", "w") as f:
        json.dump(state, f, indent=1)
    os.replace(p + ".tmp", p)


def pkg_version(pkg):
    if not pkg:
        return "lzr-testbed"
    if pkg.startswith("pypi:"):
        name = pkg[5:]
        out = subprocess.run([cat.venv_python(), "-m", "pip", "show", name], capture_output=True, text=True)
        m = re.search(r"^Version: (\S+)", out.stdout, re.M)
        return f"{name} {m.group(1) if m else '?'}"
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return f"{pkg} {out.stdout.strip() or '?'}"


def truth_rows(profile):
    rows = []
    versions = {}
    for svc in cat.selected(profile):
        if svc.pkg not in versions:
            versions[svc.pkg] = pkg_version(svc.pkg)
        for t in cat.targets_of(svc):
            rows.append({
                "addr": t.addr, "port": t.port, "kind": svc.kind, "expect": t.expect,
                "outcome": t.outcome,
                "handshake": t.handshake, "proto": t.proto, "server": svc.name,
                "behaviour": svc.behaviour or None, "version": versions[svc.pkg], "note": t.note,
            })
    return rows


def shell_command(launch):
    """One `sh -c` string: prep steps, private tmpfs mounts, user switch, environment, then exec the server."""
    steps = [" ".join(shlex.quote(a) for a in p) for p in launch.prep]
    argv = list(launch.argv)
    if launch.env:
        argv = ["env"] + [f"{k}={v}" for k, v in launch.env.items()] + argv
    if launch.user:
        argv = ["runuser", "-u", launch.user, "--"] + argv
    final = "exec " + " ".join(shlex.quote(a) for a in argv)
    if launch.private:
        mounts = []
        for entry in launch.private:
            path, mode = entry if isinstance(entry, tuple) else (entry, "1777" if entry == "/tmp" else "0755")
            mounts.append(f"mkdir -p {shlex.quote(path)} && mount -t tmpfs -o mode={mode} tmpfs {shlex.quote(path)}")
        mounts = " && ".join(mounts)
        inner = mounts + " && " + final
        final = "exec unshare --mount --propagation private sh -c " + shlex.quote(inner)
    return " && ".join(steps + [final])


def start(state, name, launch):
    log = open(os.path.join(state["run_dir"], "logs", f"{name}.log"), "ab")
    cmd = ["ip", "netns", "exec", state["bed_ns"], "sh", "-c", shell_command(launch)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True, cwd=state["run_dir"])
    log.close()
    state["procs"][name] = p.pid
    return p


def setup_network(state, link, neigh, scan_mac):
    scan, bed = state["scan_ns"], state["bed_ns"]
    si, bi = state["scan_if"], state["bed_if"]
    for ns in (scan, bed):
        netns.run(["ip", "netns", "add", ns])
        netns.run(["ip", "link", "set", "lo", "up"], ns=ns)
    netns.run(["ip", "link", "add", si, "netns", scan, "type", "veth", "peer", "name", bi, "netns", bed])
    netns.run(["ip", "addr", "add", f"{cat.SCAN_KERNEL_IP}/{cat.PREFIX}", "dev", si], ns=scan)
    netns.run(["ip", "addr", "add", f"{cat.BED_IP}/{cat.PREFIX}", "dev", bi], ns=bed)
    for ns, ifc in ((scan, si), (bed, bi)):
        netns.run(["ethtool", "-K", ifc, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"],
                  ns=ns, check=False)
        netns.run(["ip", "link", "set", ifc, "up"], ns=ns)
    addrs = sorted({s.addr for s in cat.selected(state["profile"]) if s.behaviour != "absent"},
                   key=lambda a: tuple(int(x) for x in a.split(".")))
    batch = "".join(f"addr add {a}/32 dev {bi}\n" for a in addrs)
    netns.run(["ip", "-batch", "-"], ns=bed, input_bytes=batch.encode())
    state["scan_mac"] = netns.iface_mac(scan, si)
    state["gateway_mac"] = netns.iface_mac(bed, bi)
    dpdk_if, dpdk_ns = si, scan
    if link == "tap":
        tap = state["tap_if"]
        netns.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap", "multi_queue"], ns=bed)
        netns.run(["ethtool", "-K", tap, "tx", "off", "tso", "off", "gso", "off", "gro", "off"], ns=bed,
                  check=False)
        netns.run(["ip", "link", "set", tap, "up"], ns=bed)
        netns.run(["ip", "route", "add", f"{cat.SCAN_SRC_IP}/32", "dev", tap], ns=bed)
        state["scan_mac"] = scan_mac or cat.TAP_SCAN_MAC
        state["gateway_mac"] = netns.iface_mac(bed, tap)
        dpdk_if, dpdk_ns = tap, bed
    elif scan_mac:
        state["scan_mac"] = scan_mac
    state["dpdk_if"], state["dpdk_ns"] = dpdk_if, dpdk_ns
    if neigh == "static":
        dev = state["tap_if"] if link == "tap" else bi
        netns.run(["ip", "neigh", "replace", cat.SCAN_SRC_IP, "lladdr", state["scan_mac"], "dev", dev,
                   "nud", "permanent"], ns=bed)
    # Rules: conntrack must be strict for SYNPROXY (unknown ACKs are INVALID, not picked up mid-stream).
    rules_path = os.path.join(state["run_dir"], "conf", "rules.nft")
    with open(rules_path, "w") as f:
        f.write(rules.ruleset("lzrbed"))
    netns.run(["nft", "-f", rules_path], ns=bed)
    netns.run(["sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_loose=0"], ns=bed)


def mbox_spec(state):
    spec = []
    behaviours = {"rst": "rst", "rst_on_data": "rst_on_data", "fin": "fin", "sink": "sink",
                  "zero_window": "sink", "data_not_acked": "sink", "synack_retransmitted": "sink"}
    for m in cat.MIDDLEBOXES:
        if m.behaviour in behaviours:
            for port in sorted({t.port for t in m.targets}):
                spec.append({"addr": m.addr, "port": port, "behaviour": behaviours[m.behaviour]})
        elif m.behaviour == "acking_firewall":
            spec.append({"addr": m.addr, "port": 9, "behaviour": "sink"})
    p = os.path.join(state["run_dir"], "conf", "mbox.json")
    with open(p, "w") as f:
        json.dump(spec, f, indent=1)
    return p


def groups_for(profile):
    chosen = {s.name for s in cat.selected(profile)}
    out = {}
    for gname, (fn, served) in launchers.LAUNCHERS.items():
        if any(s in chosen for s in served):
            out[gname] = (fn, [s for s in served if s in chosen])
    return out


def wait_ready(state, procs, served, timeout):
    """Wait until every required listener exists; fail fast naming a server whose process died."""
    by_name = {s.name: s for s in cat.selected(state["profile"])}
    need = {}
    for gname, names in served.items():
        for n in names:
            for ap in cat.must_listen(by_name[n]):
                need.setdefault(gname, set()).add(ap)
    deadline = time.monotonic() + timeout
    while True:
        have = netns.listeners(state["bed_ns"])
        missing = {g: sorted(ap for ap in aps if ap not in have and ("*", ap[1]) not in have)
                   for g, aps in need.items()}
        missing = {g: m for g, m in missing.items() if m}
        if not missing:
            return
        for g in missing:
            if procs[g].poll() is not None:
                raise BedError(f"server {g!r} exited with status {procs[g].returncode} before listening on "
                               f"{fmt_aps(missing[g])}\n{log_tail(state, g)}")
        if time.monotonic() > deadline:
            lines = [f"  {g}: not listening on {fmt_aps(m)}\n{log_tail(state, g, 8)}" for g, m in missing.items()]
            raise BedError(f"timed out after {timeout:.0f}s waiting for listeners:\n" + "\n".join(lines))
        time.sleep(0.2)


def fmt_aps(aps):
    return ", ".join(f"{a}:{p}" for a, p in aps)


def log_tail(state, g, n=15):
    try:
        with open(os.path.join(state["run_dir"], "logs", f"{g}.log"), errors="replace") as f:
            lines = f.read().splitlines()[-n:]
        return "\n".join("    | " + line for line in lines)
    except OSError:
        return "    (no log)"


def env_lines(state):
    return [
        f"LZR_TESTBED_NAME={state['name']}",
        f"SCAN_NS={state['dpdk_ns']}",
        f"SCAN_IFACE={state['dpdk_if']}",
        f"SCAN_SRC_IP={cat.SCAN_SRC_IP}",
        f"SCAN_MAC={state['scan_mac']}",
        f"GATEWAY_MAC={state['gateway_mac']}",
        f"SCAN_LINK={state['link']}",
        f"SCAN_NEIGH={state['neigh']}",
        f"KERNEL_NS={state['scan_ns']}",
        f"KERNEL_IP={cat.SCAN_KERNEL_IP}",
        f"BED_NS={state['bed_ns']}",
        f"BED_NET={cat.NET}",
        f"TRUTH={os.path.join(state['run_dir'], 'truth.jsonl')}",
        f"RUN_DIR={state['run_dir']}",
    ]


def cmd_up(args):
    t0 = time.monotonic()
    name = args.name or f"lzrbed{os.getpid()}"
    if not NAME_RE.match(name):
        raise BedError(f"--name {name!r}: use 1-13 lower-case letters/digits, starting with a letter")
    rd = run_dir(name)
    if os.path.exists(rd) or netns.ns_exists(f"{name}-scan") or netns.ns_exists(f"{name}-bed"):
        raise BedError(f"bed {name!r} already exists; `scripts/testbed down --name {name}` first")
    for sub in ("conf", "data", "logs"):
        os.makedirs(os.path.join(rd, sub))
    os.chmod(rd, 0o755)
    state = {"name": name, "run_dir": rd, "profile": args.profile, "link": args.link, "neigh": args.neigh,
             "scan_ns": f"{name}-scan", "bed_ns": f"{name}-bed", "scan_if": f"{name}s", "bed_if": f"{name}b",
             "tap_if": f"{name}t", "procs": {}, "started": time.time()}
    save_state(state)
    try:
        setup_network(state, args.link, args.neigh, args.scan_mac)
        save_state(state)
        ctx = launchers.Ctx(rd, args.profile)
        groups = groups_for(args.profile)
        procs, served = {}, {}
        # Slow starters first so their start-up overlaps the rest.
        order = sorted(groups, key=lambda g: g not in ("rabbitmq", "mariadb", "postgresql", "xrdp"))
        for g in order:
            fn, names = groups[g]
            procs[g] = start(state, g, fn(ctx))
            served[g] = names
        procs["mbox"] = start(state, "mbox", launchers.mbox(ctx, mbox_spec(state)))
        served["mbox"] = [m.name for m in cat.MIDDLEBOXES
                          if m.behaviour not in ("echo", "chargen", "synproxy") and m.profile == "light"]
        save_state(state)
        with open(os.path.join(rd, "truth.jsonl"), "w") as f:
            for row in truth_rows(args.profile):
                f.write(json.dumps(row) + "\n")
        wait_ready(state, procs, served, args.timeout)
    except BaseException as e:
        if not args.keep_on_failure:
            teardown(state, quiet=True)
        if isinstance(e, BedError):
            raise
        raise BedError(f"{type(e).__name__}: {e}") from e
    state["up_seconds"] = round(time.monotonic() - t0, 2)
    save_state(state)
    with open(os.path.join(rd, "env"), "w") as f:
        f.write("\n".join(env_lines(state)) + "\n")
    n_targets = sum(1 for _ in open(os.path.join(rd, "truth.jsonl")))
    print(f"testbed {name}: up in {state['up_seconds']:.1f}s ({args.profile} profile, {args.link} link, "
          f"{len(state['procs'])} server processes, {n_targets} targets); truth: {rd}/truth.jsonl",
          file=sys.stderr)
    if args.print_env:
        print("\n".join(env_lines(state)))
    return 0


def teardown(state, quiet=False):
    """Kill every process in the bed's namespaces (by pid), delete the namespaces and the run directory."""
    left = []
    for ns in (state["bed_ns"], state["scan_ns"]):
        pids = set(netns.ns_pids(ns))
        # Launched processes that have not yet entered the namespace are killed by their recorded pid.
        pids |= {p for p in state.get("procs", {}).values() if netns.pid_alive(p)}
        left += netns.kill_pids(sorted(pids))
    for ns in (state["bed_ns"], state["scan_ns"]):
        if netns.ns_exists(ns):
            netns.run(["ip", "netns", "delete", ns], check=False)
    if os.path.isdir(state["run_dir"]):
        shutil.rmtree(state["run_dir"], ignore_errors=True)
    problems = [f"namespace {ns} still present" for ns in (state["bed_ns"], state["scan_ns"]) if netns.ns_exists(ns)]
    problems += [f"pid {p} survived SIGKILL" for p in left if netns.pid_alive(p)]
    if problems and not quiet:
        raise BedError("teardown incomplete: " + "; ".join(problems))
    return problems


def all_beds():
    return sorted(d for d in os.listdir(RUN_ROOT) if os.path.exists(os.path.join(RUN_ROOT, d, "state.json"))) \
        if os.path.isdir(RUN_ROOT) else []


def cmd_down(args):
    names = all_beds() if args.all else [args.name or only_bed()]
    for name in names:
        t0 = time.monotonic()
        teardown(load_state(name))
        print(f"testbed {name}: down in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return 0


def only_bed():
    beds = all_beds()
    if len(beds) != 1:
        raise BedError(f"{len(beds)} beds exist ({', '.join(beds) or 'none'}): say which with --name")
    return beds[0]


def cmd_status(args):
    if not args.name and not args.print_env:
        beds = all_beds()
        if not beds:
            print("no test beds")
        for b in beds:
            st = load_state(b)
            alive = sum(netns.pid_alive(p) for p in st["procs"].values())
            print(f"{b}\t{st['profile']}\t{st['link']}\t{alive}/{len(st['procs'])} servers alive\t{st['run_dir']}")
        return 0
    st = load_state(args.name or only_bed())
    if args.print_env:
        if st["link"] == "tap":
            st["gateway_mac"] = netns.iface_mac(st["bed_ns"], st["tap_if"]) or st["gateway_mac"]
        print("\n".join(env_lines(st)))
        return 0
    have = netns.listeners(st["bed_ns"])
    print(f"bed {st['name']}: profile {st['profile']}, link {st['link']}, neigh {st['neigh']}, "
          f"up in {st.get('up_seconds', '?')}s")
    bad = 0
    for g, pid in sorted(st["procs"].items()):
        alive = netns.pid_alive(pid)
        bad += not alive
        print(f"  {g:<12} pid {pid:<8} {'alive' if alive else 'DEAD'}")
    for row in truth_rows(st["profile"]):
        listening = (row["addr"], row["port"]) in have or ("*", row["port"]) in have
        print(f"  {row['addr']:>14}:{row['port']:<6} {row['server']:<20} {row['expect']:<22} "
              f"{'listening' if listening else '-'}")
    return 1 if bad else 0


def cmd_check(args):
    import check
    return check.main(args)


def main(argv):
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `status | head` must not end in a traceback
    ap = argparse.ArgumentParser(prog="scripts/testbed", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="create the namespaces, start every server, wait until all listen")
    up.add_argument("--name", help="bed name (namespaces NAME-scan, NAME-bed; default lzrbed<pid>)")
    up.add_argument("--profile", choices=("light", "full"), default="full")
    up.add_argument("--link", choices=("veth", "tap"), default="veth")
    up.add_argument("--neigh", choices=("lzr", "static"), default="lzr",
                    help="lzr: lzr answers ARP for 198.18.0.2; static: permanent neighbour entry in the bed")
    up.add_argument("--scan-mac", help="MAC lzr uses (default: the scanner veth's; tap: 02:00:5e:18:00:02)")
    up.add_argument("--timeout", type=float, default=50.0, help="seconds to wait for all listeners")
    up.add_argument("--print-env", action="store_true", help="print shell variables for the scanner")
    up.add_argument("--keep-on-failure", action="store_true", help="leave a failed bed for inspection")
    down = sub.add_parser("down", help="kill the bed's processes and delete its namespaces")
    down.add_argument("--name")
    down.add_argument("--all", action="store_true", help="every bed under /run/lzr-testbed")
    st = sub.add_parser("status", help="list beds, or one bed's servers and targets")
    st.add_argument("--name")
    st.add_argument("--print-env", action="store_true")
    ck = sub.add_parser("check", help="smoke test: every server answers, every middlebox behaves")
    ck.add_argument("--name", help="check this running bed (default: bring one up, check it, take it down)")
    ck.add_argument("--profile", choices=("light", "full"), default="full")
    ck.add_argument("--link", choices=("veth", "tap"), default="veth")
    args = ap.parse_args(argv)
    try:
        return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "check": cmd_check}[args.cmd](args)
    except BedError as e:
        print(f"scripts/testbed {args.cmd}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
