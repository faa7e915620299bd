"""Writes bench/results/latest.md (a table shaped like the paper's Table 4, the 1 Gb/s attempt, the rate search,
the microbenchmarks) and latest.png from the JSON bench.py gathered. `python3 bench/report.py [results-dir]`
re-renders from latest.json."""

import json
import os
import sys

from bench import PAPER, LINE_RATE_PPS


def count(n):
    if n is None:
        return "—"
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e4:
        return f"{n / 1e3:.1f}K"
    return str(int(n))


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def rate(r):
    return f"{r / 1e6:.3f} Mpps" if r >= 1e6 else f"{r / 1e3:.0f} kpps"


def table4(profiles):
    cols = [p["best"] for p in profiles]
    head = "| | " + " | ".join(str(p["port"]) for p in profiles) + " |"
    lines = [head, "|---" * (len(profiles) + 1) + "|"]

    def row(name, f):
        lines.append(f"| {name} | " + " | ".join("—" if c is None else f(c) for c in cols) + " |")

    row("handshakes", lambda c: "→".join(c["handshakes"]))
    row("hosts scanned (all SYN-ACK)", lambda c: count(c["hosts"]))
    row("SYN-ACK", lambda c: count(c["records"]["synack"]))
    row("Zero window", lambda c: count(c["records"]["zero_window"]))
    row("RST", lambda c: count(c["records"]["rst"]))
    row("ACKs data", lambda c: count(c["records"]["acks_data"]))
    row("Expected (lzr)", lambda c: count(c["records"]["expected"]))
    row("Expected (truth)", lambda c: count(c["truth"]["expected"]))
    row("Expected (ZGrab, modelled)", lambda c: count(c["zgrab_identified"]))
    row("Unexpected (lzr)", lambda c: count(c["records"]["unexpected"]))
    row("Unique unexpected", lambda c: str(c["records"]["unique_unexpected"]))
    row("Found vs truth (identifiable)", lambda c: pct(c["found_share"]))
    row("Records equal to truth", lambda c: f"{c['check']['matched']}/{c['truth']['records']}")
    row("SYN rate sustained (no loss)", lambda c: rate(c["syn_rate"]))
    row("Time to complete", lambda c: f"{c['seconds']:.1f} s")
    row("CPU per target (lzr)", lambda c: f"{c['cpu_us_per_target']:.1f} µs")
    row("lzr packets / bytes (both ways)", lambda c: f"{count(c['lzr_wire']['packets'])} / {c['lzr_wire']['bytes'] / 1e6:.1f} MB")
    row("ZGrab model packets / bytes", lambda c: f"{count(c['zgrab_model']['packets'])} / {c['zgrab_model']['bytes'] / 1e6:.1f} MB")
    row("Packets sent per identified service: lzr / ZGrab", lambda c: (
        f"{c['per_service']['lzr_packets_out']:.1f} / {c['per_service']['zgrab_packets_out']:.1f}"
        if c["per_service"]["lzr_packets_out"] and c["per_service"]["zgrab_packets_out"] else "—"))
    row("Bytes sent per identified service: lzr / ZGrab", lambda c: (
        f"{c['per_service']['lzr_bytes_out']:.0f} / {c['per_service']['zgrab_bytes_out']:.0f}"
        if c["per_service"]["lzr_bytes_out"] and c["per_service"]["zgrab_bytes_out"] else "—"))
    row("Bandwidth saved (packets)", lambda c: pct(c["saved_packets"]))
    row("Bandwidth saved (bytes)", lambda c: pct(c["saved_bytes"]))
    lines.append("| *Paper: bandwidth saved, ZMap/LZR (not measured here)* | " +
                 " | ".join(f"*{PAPER[p['port']]['saved']}%*" for p in profiles) + " |")
    lines.append("| *Paper: speed-up vs ZGrab, ZMap/LZR (not measured here)* | " +
                 " | ".join(f"*{PAPER[p['port']]['speedup']}×*" for p in profiles) + " |")
    return "\n".join(lines)


def gig_table(profiles):
    lines = ["| port | hosts | SYNs arrived at | time | frames lost | drops (where) | records ≠ truth | found vs truth | CPU/target |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in profiles:
        g = p["gig"]
        lines.append(f"| {p['port']} | {count(g['hosts'])} | {rate(g['syn_rate'])} ({100 * g['syn_rate'] / LINE_RATE_PPS:.0f}% of 1 Gb/s) "
                     f"| {g['seconds']:.1f} s | {g['lost_frames']} | {g['drops']}{where(g)} | {g['wrong_records']} "
                     f"| {pct(g['found_share'])} | {g['cpu_us_per_target']:.1f} µs |")
    return "\n".join(lines)


def where(run):
    d = run.get("loss_detail", {})
    names = {"lzr_drops": "lzr", "lzr_table_full": "lzr table full", "sim_rx_dropped": "sim rx",
             "sim_tx_dropped": "sim tx ring full", "sim_tx_no_buffer": "sim no mbuf",
             "sim_tx_bad_length": "sim frame too long", "sim_send_failed": "sim send"}
    parts = [f"{names[k]} {d[k]}" for k in names if d.get(k)]
    return f" ({', '.join(parts)})" if parts else ""


def search_table(profiles):
    lines = ["| port | rates tried (asked → arrived, loss) | highest loss-free |", "|---|---|---|"]
    for p in profiles:
        tries = "; ".join(f"{rate(t['rate'])} → {rate(t['syn_rate'])} "
                          f"{'LOSS' if t['loss'] else 'ok'}{' (2nd try)' if t.get('tries') == 2 and not t['loss'] else ''}"
                          for t in p["tried"])
        best = (f"asked {rate(p['best']['rate'])}, arrived {rate(p['best']['syn_rate'])}" if p["best"]
                else "none found")
        lines.append(f"| {p['port']} | {tries} | {best} |")
    return "\n".join(lines)


PEER_NAMES = {"nmap": "ZMap + nmap -sV", "zgrab2": "ZMap + ZGrab2", "lzr_go": "ZMap + original LZR"}


def ratio(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}×"


def peers_table(peer_runs, tools):
    """lzr against each measured peer on the same hosts (bench/peers.py), one row per port and peer."""
    lines = ["| port | space | peer | time: peer / lzr | speed-up | packets: peer / lzr | packets saved "
             "| bytes saved | found vs truth: peer / lzr | packets per found service: peer / lzr |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for run in peer_runs:
        mine = run["lzr"]
        for name, p in run["peers"].items():
            c = p["check"]
            label = PEER_NAMES.get(name, name) + ("" if p.get("complete", True) else " (stopped at the limit)")
            lines.append(
                f"| {run['port']} | {count(run['hosts'])} ({run['space']}) | {label} "
                f"| {p['seconds']:.1f} s / {mine['seconds']:.1f} s | {ratio(p['speedup'])} "
                f"| {count(p['wire']['packets'])} / {count(mine['lzr_wire']['packets'])} | {pct(p['saved_packets'])} "
                f"| {pct(p['saved_bytes'])} "
                f"| {c['correct']} ({pct(p['found_share'])}) / {p['lzr_found']} ({pct(p['lzr_found_share'])}) "
                f"of {c['speaking']} | "
                + (f"{p['packets_per_service']:.1f} / {p['lzr_packets_per_service']:.1f}"
                   if p["packets_per_service"] and p["lzr_packets_per_service"] else "—") + " |")
    notes = []
    for run in peer_runs:
        zm = run["zmap"]
        notes.append(f"- {run['port']}: ZMap found {zm['hits']} of {run['hosts']} SYN-ACKers in {zm['seconds']:.1f} s "
                     f"({zm['wire']['packets']} packets); lzr run loss-free: {'no' if run['lzr']['loss'] else 'yes'}.")
        for name, p in run["peers"].items():
            c = p["check"]
            labels = ", ".join(f"{k} {v}" for k, v in sorted(c["labels"].items(), key=lambda kv: -kv[1]))
            notes.append(f"  - {PEER_NAMES.get(name, name)}: named {c['named']} services ({labels or 'none'}); "
                         f"{c['correct']} right, {c['wrong']} wrong"
                         + (f" (e.g. {c['examples'][0]})" if c["wrong"] and c["examples"] else "") + ".")
    versions = (f"nmap {tools.get('nmap') or '?'}, zmap {tools.get('zmap') or '?'}; ZGrab2: "
                f"{tools.get('zgrab2') or 'not given (not run)'}; original LZR: {tools.get('lzr_go') or 'not given (not run)'}")
    return "\n".join(lines + ["", f"Tools: {versions}.", ""] + notes)


def chart(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib missing (python3-matplotlib): no chart"
    profiles = [p for p in result["profiles"] if p["best"]]
    if not profiles:
        return "no loss-free run: no chart"
    ports = [str(p["port"]) for p in profiles]
    x = range(len(ports))
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.6))
    w = 0.27
    a.bar([i - w for i in x], [100 * p["best"]["saved_packets"] for p in profiles], w, label="lzr, packets (measured)")
    a.bar(list(x), [100 * p["best"]["saved_bytes"] for p in profiles], w, label="lzr, bytes (measured)")
    a.bar([i + w for i in x], [PAPER[p["port"]]["saved"] for p in profiles], w, label="paper's LZR (not measured here)",
          color="lightgray", hatch="//")
    a.set_xticks(list(x), ports)
    a.set_xlabel("port (profile)")
    a.set_ylabel("bandwidth saved vs ZMap+ZGrab (%)")
    a.set_title("Bandwidth saved vs the full-handshake baseline")
    a.set_ylim(0, 115)
    a.legend(fontsize=8, loc="upper left")
    b.bar([i - w / 2 for i in x], [p["gig"]["syn_rate"] / 1e3 for p in profiles], w, label="asked 1 Gb/s: SYNs arrived")
    b.bar([i + w / 2 for i in x], [p["best"]["syn_rate"] / 1e3 for p in profiles], w, label="highest loss-free")
    b.axhline(LINE_RATE_PPS / 1e3, color="red", linestyle="--", linewidth=1, label="1 Gb/s (1488 kpps)")
    b.set_xticks(list(x), ports)
    b.set_xlabel("port (profile)")
    b.set_ylabel("SYN rate (kpps)")
    b.set_yscale("log")
    b.set_title("SYN rate over memif (every host SYN-ACKs)")
    b.set_ylim(10, 8000)
    b.legend(fontsize=8, loc="upper left", ncol=2)
    m = result["machine"]
    fig.suptitle(f"lzr on a simulated Internet (Table 4 mixes) — {m['cpu']}, {m['cores']} vCPU shared, DPDK {m['dpdk']}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write(result, out_dir):
    m = result["machine"]
    profiles = result["profiles"]
    if not profiles:
        return write_peers_only(result, out_dir)
    png_note = chart(result, os.path.join(out_dir, "latest.png"))
    parts = [
        "# lzr on a simulated Internet: the paper's Table 4 experiment",
        "",
        f"Produced by `{result['command'].strip()}` ({result['mode']} mode) on {result['started']}. Method, cost model and "
        "caveats: [docs/benchmarks.md](../../docs/benchmarks.md).",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} vCPUs (shared with other work: load average "
        f"{m['load_average'][0]:.1f} at the start, {m.get('load_average_end', [float('nan')])[0]:.1f} at the end), "
        f"kernel {m['kernel']}, DPDK {m['dpdk']}. lzr and lzr-sim talk over net_memif (process to process, "
        "1 queue each, both processes' lcores floating over both vCPUs).",
        "",
        "## Table 4, at the highest SYN rate sustained without loss",
        "",
        "Every simulated address SYN-ACKs (the profile's mix among SYN-ACKers, as Table 4 counts). Rows as in the "
        "paper; 'truth' is the simulator's ground truth for a loss-free scan; the ZGrab row and costs come from "
        "the cost model (ZMap's SYN + ZGrab completing the L7 handshake with every SYN-ACKing host), computed "
        "from the same hosts. Italic rows are the paper's own figures, for context only.",
        "",
        table4([p for p in profiles]),
        "",
        "## At 1 Gb/s of SYNs (1.488 Mpps asked)",
        "",
        gig_table(profiles),
        "",
        "## Rate search",
        "",
        "Loss = frames one side sent and the other never received, any drop counter (lzr's, the simulator's "
        "queues), or any record that differs from the truth (missing, different, duplicate). A lossy run is "
        "repeated once (a stall of either process on the shared machine can overflow a ring at any rate); a rate "
        "counts as loss-free when one of its two runs was, marked '2nd try'.",
        "",
        search_table(profiles),
        "",
        "## Peers",
        "",
    ]
    peer_runs = result.get("peers") or []
    if peer_runs:
        parts += ["Measured, not modelled: on a smaller space (the kernel stack is slow), `lzr-sim` plays the same "
                  "profile on a tap inside a network namespace; ZMap finds the SYN-ACKers there and a kernel-stack "
                  "tool completes the handshakes with its hits, while lzr scans the same addresses over memif in "
                  "the same run. Packets and bytes both ways, counted on the tap (ZMap's discovery included) and "
                  "on memif for lzr. 'Found vs truth': services named with the protocol the host really speaks, "
                  "over the hosts that speak one (mapping of tool names: docs/benchmarks.md). Time: the peer's "
                  "wall time including ZMap's; lzr's from start to exit with its default timers (5 s timeout, "
                  "8 s cooldown). Speed-up = peer time / lzr time.", "",
                  peers_table(peer_runs, result.get("peer_tools", {})), ""]
    tools = result.get("peer_tools", {})
    missing = [n for n, k in (("ZGrab2", "zgrab2"), ("the original LZR", "lzr_go")) if not tools.get(k)]
    if missing:
        parts.append(f"- {' and '.join(missing)}: not measured in this run (not packaged by Debian; the bench "
                     "runs them when given `--zgrab2 PATH` / `--lzr-go PATH`)."
                     + ("" if peer_runs else " No peer ran: the comparison is the cost model above."))
    parts += ["", "![chart](latest.png)" if png_note is None else f"(chart: {png_note})", ""]
    micro = result.get("micro")
    if micro:
        parts += ["## Microbenchmarks", ""]
        for name, r in micro.items():
            env = " ".join(f"{k}={v}" for k, v in r["env"].items())
            parts += [f"`{env + ' ' if env else ''}cargo bench --no-default-features --bench {name}` ({r['seconds']} s):",
                      "", "```", r["output"], "```", ""]
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write("\n".join(parts))


def write_peers_only(result, out_dir):
    """latest.md for a run that measured only the peers (`--peers-only` with no earlier results)."""
    m = result["machine"]
    text = "\n".join([
        "# lzr and its peers on the same simulated hosts", "",
        f"Produced by `{result['command'].strip()}` on {result['started']}; machine: {m['cpu']}, {m['cores']} vCPUs "
        f"(load average {m['load_average'][0]:.1f}). Method: [docs/benchmarks.md](../../docs/benchmarks.md).", "",
        peers_table(result.get("peers") or [], result.get("peer_tools", {})), ""])
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    with open(os.path.join(d, "latest.json")) as f:
        write(json.load(f), d)
