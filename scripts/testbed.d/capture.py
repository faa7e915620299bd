"""scripts/capture-corpus: record what each real server of the bed answers to the original's probes.

For every (server, protocol) of the ground truth (one port each) and every probe that makes sense for it -- wait
(no probe: read the banner), http, tls, newlines (\\n\\n, paper Figure 10) and the server's own handshake -- a
kernel socket in the scanner namespace connects, sends the probe bytes (reference §6; the ClientHello's random is
zero), reads the first answer (one recv of at most 1024 bytes, waiting up to 2 s) and stores it as
tests/corpus/<subject>/<probe>.bin, indexed in tests/corpus/index.toml. Echo and chargen answers are captured too
(a reflected probe is not a protocol). Without --name it brings up its own full-profile bed and takes it down.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bed  # noqa: E402
import check  # noqa: E402
import probes  # noqa: E402

GENERIC = ["wait", "http", "tls", "newlines"]


def subjects(rows):
    """One (dir name, row) per server and protocol, plus the echo and chargen middleboxes."""
    protos = {}
    for r in rows:
        if r["kind"] == "service":
            protos.setdefault(r["server"], set()).add(r["proto"])
    seen, out = set(), []
    for r in rows:
        if r["kind"] == "service":
            key = r["server"] if len(protos[r["server"]]) == 1 else f"{r['server']}-{r['proto']}"
            handshakes = [x["handshake"] for x in rows if x["server"] == r["server"] and x["proto"] == r["proto"]]
        elif r["behaviour"] in ("echo", "chargen"):
            key, handshakes = r["behaviour"], []
        else:
            continue
        if key in seen:
            continue
        seen.add(key)
        out.append((key, r, list(dict.fromkeys(GENERIC + handshakes))))
    return out


def toml_str(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string for the text we write


def capture(state, out_dir):
    rows = bed.truth_rows(state["profile"])
    plan = []
    for key, row, names in subjects(rows):
        for name in names:
            plan.append((key, row, name))
    jobs = [{"type": "tcp", "addr": row["addr"], "port": row["port"],
             "payload_hex": probes.probe(name, row["addr"]).hex(), "wait": 2.0, "max": 1024}
            for _, row, name in plan]
    t0 = time.monotonic()
    results = check.grab(state["scan_ns"], jobs)
    entries = []
    for (key, row, name), res in zip(plan, results):
        data = bytes.fromhex(res.get("data_hex", ""))
        rel = f"{key}/{name}.bin"
        os.makedirs(os.path.join(out_dir, key), exist_ok=True)
        with open(os.path.join(out_dir, rel), "wb") as f:
            f.write(data)
        entries.append({"server": key, "version": row["version"], "speaks": row["proto"] or row["behaviour"],
                        "port": row["port"], "probe": name, "file": rel, "bytes": len(data),
                        "end": res.get("end", res.get("connect", res.get("error", "?"))),
                        "mentions_address": row["addr"].encode() in data})
    with open(os.path.join(out_dir, "index.toml"), "w") as f:
        f.write("# Answers of the test bed's real servers to the original LZR's probes (scripts/capture-corpus).\n"
                "# One [[capture]] per (server, probe): `file` holds the first answer (one recv, <= 1024 bytes,\n"
                "# waiting <= 2 s; empty when the server sent nothing). `speaks` is the protocol the server\n"
                "# really speaks; `end` is how the read ended (data, eof = FIN, reset = RST, silent = nothing\n"
                "# within 2 s); `mentions_address` says whether the bed address appears in the bytes (the\n"
                "# http/ipp probes carry it in Host:). Fingerprint expectations belong to the handshake tests.\n")
        for e in entries:
            f.write("\n[[capture]]\n")
            for k in ("server", "version", "speaks", "port", "probe", "file", "bytes", "end", "mentions_address"):
                v = e[k]
                f.write(f"{k} = {toml_str(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else v}\n")
    print(f"captured {len(entries)} answers from {len({e['server'] for e in entries})} servers in "
          f"{time.monotonic() - t0:.1f}s into {out_dir}", file=sys.stderr)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="scripts/capture-corpus")
    ap.add_argument("--name", help="use this running bed (default: bring up a full bed, then take it down)")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "tests", "corpus"))
    args = ap.parse_args(argv)
    out_dir = os.path.abspath(args.out)
    try:
        if args.name:
            return capture(bed.load_state(args.name), out_dir)
        name = f"lzrcap{os.getpid()}"[:13]
        up = type("A", (), dict(name=name, profile="full", link="veth", neigh="static", scan_mac=None,
                                timeout=50.0, print_env=False, keep_on_failure=False))
        bed.cmd_up(up)
        state = bed.load_state(name)
        try:
            return capture(state, out_dir)
        finally:
            bed.teardown(state)
    except bed.BedError as e:
        print(f"scripts/capture-corpus: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
