"""Peers measured on the same simulated hosts as lzr (docs/benchmarks.md, "Peers"). Used by bench.py.

The population is played by `lzr-sim` on a `net_tap` inside a network namespace this module creates
(`lzr-peer-<pid>-<n>`, removed on exit and on failure). The tap's kernel side is the scanner: it owns
SCANNER_IP, reaches the simulated space through one permanent neighbour (the simulator's MAC), and runs kernel
tools there:

- ZMap (Debian's) finds the SYN-ACKers, at a bounded rate, with an explicit allowlist of the space only;
- nmap's service detection (`-sV --version-light -n -Pn`) on ZMap's hits: always;
- ZGrab2 (`--zgrab2 PATH`), one module per handshake of the column, on ZMap's hits;
- the original LZR (`--lzr-go PATH`), fed by its own ZMap run, as its README pipes them.

Each phase is measured on the tap (the kernel's interface counters: frames and bytes the kernel sent to the
simulator and received from it) and timed; what each tool named is mapped to lzr's labels and scored against
the simulator's truth by `lzr-sim --truth --check-peer`. Only processes started here are stopped, by pid;
every wait is bounded.
"""

import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET

SCANNER_IP = "198.18.0.1"
# A next hop that is not in the simulated space: one permanent neighbour entry instead of one per host (the
# kernel's neighbour table would overflow on 4096 hosts).
NEXT_HOP = "198.18.0.254"
# net_tap gives the tap's kernel side the port's own MAC; ZMap's capture filter drops frames from its own MAC,
# so the kernel side gets another one.
KERNEL_MAC = "02:00:5e:12:00:01"
# The simulated space of a peer run: a prefix of 198.18.128.0/17 (only inside the namespace).
SPACE_BASE = "198.18.128.0"
MAX_BITS = 15
ZMAP_RATE_MAX = 50_000

# nmap service names -> lzr's labels. A TLS tunnel (`tunnel="ssl"`) names TLS whatever runs inside it.
NMAP_LABELS = {
    "http": "http", "http-proxy": "http", "http-alt": "http", "https": "tls", "ssl": "tls", "ftp": "ftp",
    "telnet": "telnet", "amqp": "amqp", "vnc": "vnc", "mongodb": "mongodb", "mongod": "mongodb", "ssh": "ssh",
    "smtp": "smtp", "imap": "imap", "pop3": "pop3", "mysql": "mysql", "rtsp": "rtsp", "domain": "dns",
    "pptp": "pptp", "bgp": "bgp", "mqtt": "mqtt", "postgresql": "postgres", "redis": "redis",
    "modbus": "modbus", "iso-tsap": "siemens", "ms-sql-s": "mssql", "dnp": "dnp3", "dnp3": "dnp3",
    "kubernetes": "kubernetes", "ipp": "http",
}
# nmap names that say "no service named".
NMAP_UNNAMED = {"tcpwrapped", "unknown", ""}

# ZGrab2 module per lzr handshake (ZGrab2 has no VNC module: its banner module with an RFB pattern instead).
ZGRAB2_MODULES = {
    "http": ("http", "http", []), "tls": ("tls", "tls", []), "ftp": ("ftp", "ftp", []),
    "telnet": ("telnet", "telnet", []), "amqp": ("amqp091", "amqp", []),
    "vnc": ("banner", "vnc", ["--pattern", "^RFB [0-9]{3}\\.[0-9]{3}"]), "mongodb": ("mongodb", "mongodb", []),
}


def nmap_label(service):
    """lzr's label for an nmap <service> element (attributes dict), or None when nmap named nothing. Names
    guessed from nmap's port table (method="table") are not identifications."""
    name = service.get("name", "")
    if service.get("method") != "probed" or name in NMAP_UNNAMED:
        return None
    if service.get("tunnel") == "ssl":
        return "tls"
    return NMAP_LABELS.get(name, f"nmap:{name}")


def parse_nmap_xml(text, port):
    """Findings of an nmap -oX run: [(address, label)] for every open `port` nmap named. Malformed XML is an
    error (the run is then reported as failed, not as finding nothing)."""
    root = ET.fromstring(text)
    found = []
    for host in root.iter("host"):
        addr = next((a.get("addr") for a in host.iter("address") if a.get("addrtype") == "ipv4"), None)
        for p in host.iter("port"):
            state = p.find("state")
            service = p.find("service")
            if (addr is None or p.get("portid") != str(port) or state is None or state.get("state") != "open"
                    or service is None):
                continue
            label = nmap_label(service.attrib)
            if label:
                found.append((addr, label))
    return found


def parse_zgrab2(lines, module_name, label):
    """Findings of a ZGrab2 run (JSON lines, `data.<module>.status`): [(address, label)] where it succeeded."""
    found = []
    for line in lines:
        try:
            v = json.loads(line)
        except ValueError:
            continue
        status = ((v.get("data") or {}).get(module_name) or {}).get("status")
        if status == "success" and isinstance(v.get("ip"), str):
            found.append((v["ip"], label))
    return found


def parse_lzr_go(lines):
    """Findings of the original LZR (JSON lines, spec §8.1): [(address, label)] for records with data and a
    fingerprint other than `unknown`."""
    found = []
    for line in lines:
        try:
            v = json.loads(line)
        except ValueError:
            continue
        label = v.get("fingerprint")
        if isinstance(v.get("saddr"), str) and v.get("data") and label and label != "unknown":
            found.append((v["saddr"], label))
    return found


def peer_space(bits):
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"peer space of 2^{bits} hosts: give 1..{MAX_BITS} bits")
    return f"{SPACE_BASE}/{32 - bits}", 1 << bits


class PeerRun:
    """One port's peer measurement: the namespace, the tap, lzr-sim on it, then each tool in turn."""

    def __init__(self, bench, port, handshakes, space, rate, tools):
        self.bench = bench  # bench.Bench: bin dir, tmp dir, start(), log()
        self.port = port
        self.handshakes = handshakes
        self.space = space
        self.rate = min(int(rate), ZMAP_RATE_MAX)
        self.tools = tools  # {"nmap": True, "zgrab2": path or None, "lzr_go": path or None}
        bench.n += 1
        self.tag = f"{os.getpid()}-{bench.n}"
        self.ns = f"lzr-peer-{self.tag}"
        self.tap = f"lzp{os.getpid() % 100000}{bench.n}"[:15]
        self.dir = os.path.join(bench.tmp, f"peer-{self.tag}")
        os.makedirs(self.dir)
        self.sim = None
        self.sim_mac = None
        self.procs = []

    # --- namespace plumbing -------------------------------------------------------------------------------

    def sh(self, *cmd, timeout=30):
        p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
        return p.stdout

    def in_ns(self, *cmd):
        return ["ip", "netns", "exec", self.ns, *cmd]

    def tap_counters(self):
        """(frames, bytes) the kernel sent on the tap (towards the simulator) and received from it."""
        v = json.loads(self.sh("ip", "-n", self.ns, "-s", "-j", "link", "show", self.tap))[0]["stats64"]
        return {"packets_out": v["tx"]["packets"], "bytes_out": v["tx"]["bytes"],
                "packets_in": v["rx"]["packets"], "bytes_in": v["rx"]["bytes"]}

    def setup(self):
        self.sh("ip", "netns", "add", self.ns)
        self.sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        # No IPv6 on the tap: the kernel's router solicitations and MLD reports would count as the peers' traffic.
        self.sh(*self.in_ns("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                            "net.ipv6.conf.default.disable_ipv6=1"))
        self.sh(*self.in_ns("ip", "tuntap", "add", "dev", self.tap, "mode", "tap", "multi_queue"))
        profile = os.path.join(self.bench.root, "config", "populations", f"port{self.port}.toml")
        err_path = os.path.join(self.dir, "sim.err")
        self.sim_err = open(err_path, "w")
        self.sim = self.bench.start(
            self.in_ns(os.path.join(self.bench.bin, "lzr-sim"), "--device", f"net_tap0,iface={self.tap}",
                       "--profile", profile, "--among-synack", "--space", self.space,
                       "--duration", str(self.bench.args.peer_limit + 600),
                       "--", *self.bench.eal.split(), "--file-prefix", f"lzrps{self.tag}"),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.sim_err, text=True)
        deadline = time.monotonic() + 30
        mac = None
        while mac is None and self.sim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with open(err_path) as f:
                m = re.search(r"lzr-sim: net_tap0 \(net_tap\) mac ([0-9a-f:]{17})", f.read())
            mac = m.group(1) if m else None
        if mac is None:
            raise RuntimeError(f"lzr-sim did not open the tap; see {err_path}")
        self.sim_mac = mac
        # The kernel side after DPDK opened the tap (it brings the link up): its own MAC first (changing it
        # flushes neighbours), then the scanner's address, the next hop and the route to the space.
        self.sh("ip", "-n", self.ns, "link", "set", self.tap, "address", KERNEL_MAC)
        self.sh(*self.in_ns("ethtool", "-K", self.tap, "tx", "off", "tso", "off", "gso", "off", "gro", "off"))
        self.sh("ip", "-n", self.ns, "addr", "add", f"{SCANNER_IP}/32", "dev", self.tap)
        self.sh("ip", "-n", self.ns, "neigh", "replace", NEXT_HOP, "lladdr", mac, "dev", self.tap, "nud", "permanent")
        self.sh("ip", "-n", self.ns, "route", "add", self.space, "via", NEXT_HOP, "dev", self.tap, "onlink")
        with open(os.path.join(self.dir, "allowlist"), "w") as f:
            f.write(self.space + "\n")
        # ZMap's default blocklist covers 198.18.0.0/15; the allowlist above is what bounds it here.
        open(os.path.join(self.dir, "blocklist"), "w").close()

    def teardown(self):
        """Stops lzr-sim (its JSON line: the simulator's view of the wire), deletes the namespace."""
        sim_json = None
        if self.sim is not None and self.sim.poll() is None:
            self.sim.send_signal(2)
            try:
                out, _ = self.sim.communicate(timeout=20)
                sim_json = next((json.loads(l) for l in reversed(out.splitlines()) if l.startswith("{")), None)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.communicate(timeout=10)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=30)
        if getattr(self, "sim_err", None):
            self.sim_err.close()
        return sim_json

    # --- tools --------------------------------------------------------------------------------------------

    def zmap_cmd(self, fields, out_format, extra=()):
        return self.in_ns("zmap", "-q", "-i", self.tap, "-S", SCANNER_IP, "-G", self.sim_mac, "-p", str(self.port),
                          "-r", str(self.rate), "-w", os.path.join(self.dir, "allowlist"),
                          "-b", os.path.join(self.dir, "blocklist"), "-c", "1", "-t", "60",
                          "--output-filter=success = 1 && repeat = 0", "-O", out_format, "-f", fields, *extra)

    def run_bounded(self, cmd, limit, stdout_path=None, stdin_proc=None):
        """Runs cmd to completion (at most `limit` seconds, then SIGINT, then kill); returns (code, wall)."""
        out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
        err_path = (stdout_path or os.path.join(self.dir, f"cmd{len(self.procs)}")) + ".err"
        with open(err_path, "w") as err:
            t0 = time.monotonic()
            p = self.bench.start(cmd, stdin=stdin_proc.stdout if stdin_proc else subprocess.DEVNULL,
                                 stdout=out, stderr=err)
            self.procs.append(p)
            try:
                code = p.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                self.bench.log(f"  {os.path.basename(cmd[4] if cmd[0] == 'ip' else cmd[0])} still running after "
                               f"{limit:.0f} s: interrupting it")
                p.send_signal(2)
                try:
                    code = p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    code = p.wait(timeout=10)
            wall = time.monotonic() - t0
        if stdout_path:
            out.close()
        return code, wall, err_path

    def phase(self, name, fn):
        before = self.tap_counters()
        result = fn()
        after = self.tap_counters()
        wire = {k: after[k] - before[k] for k in after}
        wire["packets"] = wire["packets_out"] + wire["packets_in"]
        wire["bytes"] = wire["bytes_out"] + wire["bytes_in"]
        result["wire"] = wire
        self.bench.log(f"  {name}: {result.get('seconds', 0):.1f} s, {wire['packets']} packets")
        return result

    def zmap(self):
        hits_path = os.path.join(self.dir, "zmap.csv")
        code, wall, err = self.run_bounded(self.zmap_cmd("saddr", "csv", ["-o", hits_path]), 120)
        if code != 0:
            raise RuntimeError(f"zmap exited {code}; see {err}")
        with open(hits_path) as f:
            hits = sorted({l.strip() for l in f if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", l.strip())})
        self.hits_path = os.path.join(self.dir, "hits.txt")
        with open(self.hits_path, "w") as f:
            f.write("".join(h + "\n" for h in hits))
        return {"seconds": wall, "hits": len(hits)}

    def nmap(self):
        xml_path = os.path.join(self.dir, "nmap.xml")
        cmd = self.in_ns("nmap", "-sV", "--version-light", "-n", "-Pn", "-p", str(self.port), "-iL", self.hits_path,
                         "-e", self.tap, "-oX", xml_path)
        code, wall, err = self.run_bounded(cmd, self.bench.args.peer_limit)
        with open(xml_path) as f:
            text = f.read()
        if code != 0 and "</nmaprun>" not in text:
            raise RuntimeError(f"nmap exited {code}; see {err}")
        return {"seconds": wall, "findings": parse_nmap_xml(text, self.port), "complete": code == 0}

    def zgrab2(self, path):
        findings, wall_total, seen = [], 0.0, set()
        modules = []
        for name in self.handshakes.split(","):
            module, label, extra = ZGRAB2_MODULES[name]
            out_path = os.path.join(self.dir, f"zgrab2-{module}.json")
            cmd = self.in_ns(path, module, "--port", str(self.port), "--input-file", self.hits_path,
                             "--output-file", out_path, *extra)
            code, wall, err = self.run_bounded(cmd, self.bench.args.peer_limit)
            wall_total += wall
            if code != 0:
                raise RuntimeError(f"zgrab2 {module} exited {code}; see {err}")
            with open(out_path) as f:
                for addr, lab in parse_zgrab2(f, module, label):
                    if addr not in seen:  # the first module that succeeds names the host, as lzr's list order
                        seen.add(addr)
                        findings.append((addr, lab))
            modules.append(module)
        return {"seconds": wall_total, "findings": findings, "modules": modules, "complete": True}

    def lzr_go(self, path):
        """ZMap piped into the original LZR, as its README does; the kernel's RSTs to the SYN-ACKs are dropped
        by a rule inside the namespace (spec §3.4), so the flows ZMap opened stay open for LZR."""
        rule = ["OUTPUT", "-p", "tcp", "--tcp-flags", "RST", "RST", "-s", SCANNER_IP, "-j", "DROP"]
        self.sh(*self.in_ns("iptables", "-A", *rule))
        out_path = os.path.join(self.dir, "lzr-go.json")
        try:
            zmap = self.bench.start(self.zmap_cmd("saddr,daddr,sport,dport,seqnum,acknum,window", "json"),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=open(os.path.join(self.dir, "zmap-lzr.err"), "w"))
            self.procs.append(zmap)
            cmd = self.in_ns(path, "-handshakes", self.handshakes, "-sendInterface", self.tap,
                             "-gatewayMac", self.sim_mac, "-f", out_path)
            code, wall, err = self.run_bounded(cmd, self.bench.args.peer_limit, stdin_proc=zmap)
            zmap.stdout.close()
            zmap.wait(timeout=30)
        finally:
            self.sh(*self.in_ns("iptables", "-D", *rule))
        if code != 0:
            raise RuntimeError(f"the original LZR exited {code}; see {err}")
        with open(out_path) as f:
            return {"seconds": wall, "findings": parse_lzr_go(f), "complete": True}

    def score(self, name, findings):
        path = os.path.join(self.dir, f"{name}.findings")
        with open(path, "w") as f:
            for addr, label in findings:
                f.write(json.dumps({"saddr": addr, "sport": self.port, "label": label}) + "\n")
        profile = os.path.join(self.bench.root, "config", "populations", f"port{self.port}.toml")
        out = subprocess.run(
            [os.path.join(self.bench.bin, "lzr-sim"), "--truth", "--profile", profile, "--among-synack", "--space",
             self.space, "--handshakes", self.handshakes, "--check-peer", path],
            capture_output=True, text=True, timeout=600, check=True).stdout.splitlines()[-1]
        return json.loads(out)["peer_check"]

    def run(self):
        """Measures every tool asked for; returns {"zmap": ..., "peers": {name: ...}, "sim": ...}."""
        result = {"space": self.space, "rate": self.rate, "peers": {}}
        try:
            self.setup()
            result["zmap"] = self.phase("zmap", self.zmap)
            runs = [("nmap", self.nmap)]
            if self.tools.get("zgrab2"):
                runs.append(("zgrab2", lambda: self.zgrab2(self.tools["zgrab2"])))
            for name, fn in runs:
                r = self.phase(name, fn)
                r["check"] = self.score(name, r.pop("findings"))
                result["peers"][name] = r
            if self.tools.get("lzr_go"):
                r = self.phase("lzr-go", lambda: self.lzr_go(self.tools["lzr_go"]))
                r["check"] = self.score("lzr-go", r.pop("findings"))
                result["peers"]["lzr_go"] = r
        finally:
            result["sim"] = self.teardown()
        return result
