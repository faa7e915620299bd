"""What the bed runs: every real server and middlebox, its address and ports, how it starts, and the ground truth.

One `Service` per process (or per middlebox rule set). Each carries `Target`s: the (address, port) pairs lzr scans and
what it must find there. Labels follow the original's fingerprint rules (reference §6, §7) applied to the answer the
real server gives on this machine; `scripts/testbed check` re-derives them from live answers (fingerprint.py), so a
wrong entry here fails the smoke test instead of silently poisoning end-to-end tests.
"""

import os
from dataclasses import dataclass, field

SCAN_KERNEL_IP = "198.18.0.1"   # the scanner namespace's kernel address (curl, nc, the corpus capture)
SCAN_SRC_IP = "198.18.0.2"      # lzr's source address: no kernel owns it
BED_IP = "198.18.0.254"         # the bed side's primary address (on-link /15 route back to the scanner)
PREFIX = 15
NET = "198.18.0.0/15"
TAP_SCAN_MAC = "02:00:5e:18:00:02"  # default MAC for lzr on the tap link (pass as net_tap's mac= devarg)


def svc_ip(n):
    return f"198.18.1.{n}"


def mb_ip(n):
    return f"198.18.2.{n}"


@dataclass
class Target:
    port: int
    expect: str                 # fingerprint label for services; outcome name for middleboxes
    handshake: str = "wait"     # the handshake (reference §6 name) that draws the answer giving `expect`
    proto: str = ""             # the protocol really spoken there (informative; "" for middleboxes)
    note: str = ""
    addr: str = ""              # filled from the owning Service unless set
    outcome: str = "data"       # the Outcome (src/record.rs) lzr should record with `handshake`
    check: bool = True          # whether `check` verifies this target's label against a live answer


@dataclass
class Service:
    name: str
    addr: str
    pkg: str                    # Debian package, or "pypi:NAME" for the venv's packages, or "" for our own code
    targets: list
    profile: str = "light"      # "light": in every profile; "full": only in --profile full
    kind: str = "service"       # "service" or "middlebox"
    listen: list = field(default_factory=list)  # (addr, port) that must be listening; default: every target
    wildcard_ports: list = field(default_factory=list)  # ports the server binds on every address (guarded)
    behaviour: str = ""         # middlebox behaviour name (docs)


# Real servers. Addresses 198.18.1.N, one per server; the same server on unexpected ports keeps its address.
SERVICES = [
    Service("nginx", svc_ip(1), "nginx-light", [
        Target(80, "http", "http", "http"),
        Target(8081, "http", "http", "http", "HTTP on a port the paper found full of unexpected HTTP"),
        Target(62220, "http", "http", "http", "HTTP on an ephemeral port (paper Table 2)"),
        Target(443, "tls", "tls", "tls"),
        Target(8443, "tls", "tls", "tls"),
        Target(53194, "tls", "tls", "tls", "TLS on an ephemeral port"),
    ]),
    Service("nginx-kubernetes", svc_ip(2), "nginx-light", [
        Target(6443, "kubernetes", "kubernetes", "tls",
               "certificate CN/SAN kubernetes; label is tls when tls precedes kubernetes in the handshake list"),
        Target(443, "kubernetes", "kubernetes", "tls", "same server on 443"),
    ]),
    Service("lighttpd", svc_ip(3), "lighttpd", [
        Target(80, "http", "http", "http"),
        Target(8080, "http", "http", "http"),
    ]),
    Service("openssh", svc_ip(4), "openssh-server", [
        Target(22, "ssh", "wait", "ssh", "server-first banner SSH-2.0-OpenSSH_..."),
        Target(443, "ssh", "wait", "ssh", "SSH on 443 (unexpected protocol on a TLS port)"),
    ]),
    Service("vsftpd", svc_ip(5), "vsftpd", [
        Target(21, "ftp", "wait", "ftp", "banner '220 (vsFTPd 3.0.3)': lower-case contains 'ftp', so not smtp"),
    ]),
    Service("opensmtpd", svc_ip(6), "opensmtpd", [
        Target(25, "smtp", "wait", "smtp", "banner '220 <host> ESMTP OpenSMTPD'"),
        Target(587, "smtp", "wait", "smtp"),
    ]),
    Service("dovecot", svc_ip(7), "dovecot-imapd", [
        Target(143, "imap", "wait", "imap", "banner '* OK [CAPABILITY ...] Dovecot (Debian) ready.'"),
        Target(110, "pop3", "wait", "pop3", "banner '+OK Dovecot (Debian) ready.'"),
    ]),
    Service("telnetd", svc_ip(8), "inetutils-telnetd", [
        Target(23, "telnet", "wait", "telnet", "server-first IAC DO/WILL options (byte[1] in ff..fb)"),
        Target(5523, "telnet", "wait", "telnet", "telnet on 5523 (paper Table 1)"),
    ]),
    Service("mariadb", svc_ip(9), "mariadb-server", [
        Target(3306, "mysql", "wait", "mysql", "server-first v10 greeting (skip-grant-tables: no host error)"),
    ]),
    Service("postgresql", svc_ip(10), "postgresql", [
        Target(5432, "postgres", "postgres", "postgres", "SSLRequest answered with the single byte 'N'"),
    ]),
    Service("redis", svc_ip(11), "redis-server", [
        Target(6379, "redis", "redis", "redis", "PING -> '+PONG\\r\\n' (7 bytes)"),
    ]),
    Service("redis-80", svc_ip(12), "redis-server", [
        Target(80, "redis", "redis", "redis", "redis on port 80; an HTTP GET draws '-ERR unknown command'"),
    ]),
    Service("memcached", svc_ip(13), "memcached", [
        Target(11211, "memcached_ascii", "memcached_ascii", "memcached", "stats -> STAT pid ..."),
        Target(11211, "memcached_binary", "memcached_binary", "memcached", "binary STAT -> magic 0x81"),
    ]),
    Service("mosquitto", svc_ip(14), "mosquitto", [
        Target(1883, "mqtt", "mqtt", "mqtt", "CONNECT -> 4-byte CONNACK"),
    ]),
    Service("rabbitmq", svc_ip(15), "rabbitmq-server", [
        Target(5672, "amqp", "amqp", "amqp", "AMQP 1.0 header -> server's own 'AMQP\\0\\0\\9\\1' header"),
    ], profile="full"),
    Service("dnsmasq", svc_ip(16), "dnsmasq-base", [
        Target(53, "dns", "dns", "dns", "DNS over TCP; the answer echoes the stackoverflow.com question"),
    ]),
    Service("unbound", svc_ip(17), "unbound", [
        Target(53, "dns", "dns", "dns", "local-zone stackoverflow.com static: NXDOMAIN echoing the question"),
    ]),
    Service("xvnc", svc_ip(18), "tigervnc-standalone-server", [
        Target(5900, "vnc", "wait", "vnc", "server-first 'RFB 003.008'"),
    ], profile="full"),
    Service("xvfb", svc_ip(19), "xvfb", [
        Target(6000, "unknown", "x11", "x11", "the x11 module has no fingerprint rule: data, label unknown"),
    ], profile="full", wildcard_ports=[6000]),
    Service("xrdp", svc_ip(20), "xrdp", [
        Target(3389, "siemens", "rdp", "rdp", "xrdp's X.224 connection confirm has dst-ref 0 (not the probe's "
               "echoed 0xfeca), so the original's rdp rule misses it and its siemens rule (COTP CC) matches"),
    ], profile="full"),
    Service("samba", svc_ip(21), "samba", [
        Target(445, "unknown", "smb", "smb", "Samba 4.17 closes (FIN, no data) on the original's SMB probe, whose "
               "header is 7 bytes short: a real SMB server the original cannot name", outcome="fin"),
    ]),
    Service("cups", svc_ip(22), "cups-daemon", [
        Target(631, "http", "http", "ipp", "cupsd answers a GET with its web page"),
    ]),
    Service("pptpd", svc_ip(23), "pptpd", [
        Target(1723, "pptp", "pptp", "pptp", "Start-Control-Connection-Reply echoing the magic cookie"),
    ]),
    Service("bird", svc_ip(24), "bird2", [
        Target(179, "bgp", "wait", "bgp", "passive dynamic neighbour range: bird sends OPEN first"),
    ]),
    Service("rtsp", svc_ip(25), "rtsp-server-perl", [
        Target(554, "rtsp", "rtsp", "rtsp", "OPTIONS -> RTSP/1.0 reply"),
    ]),
    Service("tdspool", svc_ip(26), "freetds-bin", [
        Target(1433, "mssql", "mssql", "mssql"),
    ], wildcard_ports=[1433]),
    Service("modbus", svc_ip(27), "pypi:pymodbus", [
        Target(502, "modbus", "modbus", "modbus", "Read Device Identification -> reply echoing tid 0x5a47"),
    ]),
    Service("s7", svc_ip(28), "pypi:python-snap7", [
        Target(102, "siemens", "siemens", "siemens", "COTP connection request -> COTP CC"),
    ]),
    Service("mongodb", svc_ip(29), "pypi:mockupdb", [
        Target(27017, "mongodb", "mongodb", "mongodb", "OP_QUERY isMaster -> reply with maxBsonObjectSize"),
    ]),
    Service("dnp3", svc_ip(30), "pypi:dnp3-outstation", [
        Target(20000, "dnp3", "dnp3", "dnp3", "link status request to address 10 -> LINK_STATUS frame"),
    ]),
]

# Middleboxes. Addresses 198.18.2.N, one per behaviour. `expect` is the Outcome name (src/record.rs) lzr should
# record when it sends a probe with data on the handshake ACK (e.g. http); `note` says what differs with `wait`.
MIDDLEBOXES = [
    Service("mb-rst", mb_ip(1), "", [
        Target(80, "rst_after_handshake", "http", note="accepts, then closes with SO_LINGER {1,0}: RST"),
        Target(8080, "rst_after_handshake", "http"),
    ], kind="middlebox", behaviour="rst"),
    Service("mb-rst-on-data", mb_ip(2), "", [
        Target(80, "rst_after_handshake", "http",
               note="resets when the first data arrives (the RST acks it); with wait: acked_no_data"),
    ], kind="middlebox", behaviour="rst_on_data"),
    Service("mb-zero-window", mb_ip(3), "", [
        Target(80, "zero_window", "http", note="nftables sets the TCP window of every segment it sends to 0"),
    ], kind="middlebox", behaviour="zero_window"),
    Service("mb-data-not-acked", mb_ip(4), "", [
        Target(80, "data_not_acked", "http",
               note="nftables drops every segment to it that carries payload; with wait: acked_no_data"),
    ], kind="middlebox", behaviour="data_not_acked"),
    Service("mb-synproxy", mb_ip(5), "", [
        Target(80, "zero_window", "http", note="nginx behind a SYNPROXY. The proxy, not nginx, answers the SYN, "
               "with window 0 (Linux's SYNPROXY advertises a zero window until the client's ACK has reached the "
               "backend): the paper's zero-window proxy. lzr never answers a zero-window SYN-ACK, so it cannot "
               "see nginx; a kernel client (ACK, then data once the window opens) gets nginx's HTTP answer"),
        Target(81, "zero_window", "http", note="SYNPROXY SYN-ACKs every port with window 0; a kernel client's "
               "ACK then draws an RST (no backend)"),
        Target(4444, "zero_window", "http"),
        Target(62220, "zero_window", "http"),
    ], kind="middlebox", behaviour="synproxy", listen=[]),
    Service("mb-acking-firewall", mb_ip(6), "", [
        Target(80, "acking_firewall", "http", note="every port SYN-ACKs and ACKs data (DNAT to a sink); "
               "acked_no_data per port; acking_firewall once HyperACKtive filtering probes ephemeral ports"),
        Target(443, "acking_firewall", "http"),
        Target(47808, "acking_firewall", "http"),
    ], kind="middlebox", behaviour="acking_firewall"),
    Service("mb-sink", mb_ip(7), "", [
        Target(80, "acked_no_data", "http", note="accepts and reads, never writes"),
        Target(9, "acked_no_data", "http"),
    ], kind="middlebox", behaviour="sink"),
    Service("mb-synack-retx", mb_ip(8), "", [
        Target(80, "synack_retransmitted", "http",
               note="nftables drops everything but SYNs to it: the listener retransmits its SYN-ACK"),
    ], kind="middlebox", behaviour="synack_retransmitted"),
    Service("mb-filtered", mb_ip(9), "", [
        Target(80, "no_synack", "http", note="nftables drops every packet to it"),
        Target(443, "no_synack", "http"),
    ], kind="middlebox", behaviour="filtered"),
    Service("mb-closed", mb_ip(10), "", [
        Target(80, "closed", "http", note="address up, no listener: RST to the SYN"),
        Target(443, "closed", "http"),
    ], kind="middlebox", behaviour="closed"),
    Service("mb-icmp-prohibited", mb_ip(11), "", [
        Target(80, "no_synack", "http", note="ICMP admin-prohibited answers the SYN; no TCP reply"),
    ], kind="middlebox", behaviour="icmp_prohibited"),
    Service("mb-fin", mb_ip(12), "", [
        Target(80, "fin", "http", note="accepts and sends FIN at once (shutdown SHUT_WR), then drains"),
    ], kind="middlebox", behaviour="fin"),
    Service("mb-echo", mb_ip(13), "openbsd-inetd", [
        Target(7, "data", "http", note="inetd echo: reflects the probe. The original labels the reflection "
               "by the probe's own rule (http probe -> http); a reflected probe is not a protocol"),
    ], kind="middlebox", behaviour="echo"),
    Service("mb-chargen", mb_ip(14), "openbsd-inetd", [
        Target(19, "data", "http", note="inetd chargen: streams printable characters; label unknown"),
    ], kind="middlebox", behaviour="chargen"),
    Service("mb-absent", mb_ip(200), "", [
        Target(80, "no_synack", "http", note="no host owns this address: ARP fails, nothing answers"),
    ], kind="middlebox", behaviour="absent", listen=[]),
]


def selected(profile):
    """Services and middleboxes of a profile."""
    return [s for s in SERVICES + MIDDLEBOXES if profile == "full" or s.profile == "light"]


def targets_of(svc):
    for t in svc.targets:
        if not t.addr:
            t.addr = svc.addr
        if svc.kind == "middlebox" and not t.proto:
            t.proto = ""
        if svc.kind == "middlebox":
            t.outcome = t.expect if t.expect in OUTCOMES else "data"
        yield t


OUTCOMES = {"no_synack", "closed", "zero_window", "rst_after_handshake", "fin", "synack_retransmitted",
            "data_not_acked", "acked_no_data", "data", "acking_firewall"}


def must_listen(svc):
    """(addr, port) pairs that must be listening before `up` returns."""
    if svc.behaviour in ("synproxy", "absent", "closed", "filtered", "icmp_prohibited"):
        return [(svc.addr, 80)] if svc.behaviour == "synproxy" else []
    if svc.behaviour == "acking_firewall":
        return [(svc.addr, 9)]
    if svc.listen:
        return svc.listen
    return sorted({(t.addr or svc.addr, t.port) for t in svc.targets})


def venv_python():
    return os.environ.get("LZR_TESTBED_VENV", "/opt/lzr-testbed-venv") + "/bin/python"
