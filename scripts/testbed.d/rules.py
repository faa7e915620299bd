"""The nftables rule set that makes the middlebox behaviours. Loaded inside the bed's service namespace only, so it
never touches the root namespace and disappears with the namespace."""

from catalogue import MIDDLEBOXES, SERVICES


def _addr(behaviour):
    for m in MIDDLEBOXES:
        if m.behaviour == behaviour:
            return m.addr
    raise KeyError(behaviour)


def ruleset(table):
    sp = _addr("synproxy")
    af = _addr("acking_firewall")
    zw = _addr("zero_window")
    dna = _addr("data_not_acked")
    retx = _addr("synack_retransmitted")
    filt = _addr("filtered")
    icmp = _addr("icmp_prohibited")
    # A TCP segment carries no payload when the IP total length is exactly 20 + 4 * data offset (no IP options
    # in the bed). nftables cannot compare two fields, so list the eleven legal data offsets.
    no_payload = "\n".join(f"        ip daddr {dna} tcp doff {d} ip length {20 + 4 * d} accept" for d in range(5, 16))
    guards = []
    for svc in SERVICES:
        for port in svc.wildcard_ports:
            # Servers that bind every address (Xvfb, tdspool): other bed addresses must look closed.
            guards.append(f"        tcp dport {port} ip daddr != {svc.addr} reject with tcp reset")
    guards = "\n".join(guards)
    return f"""
table inet {table} {{
    chain raw_pre {{
        type filter hook prerouting priority raw; policy accept;
        # SYNPROXY: SYNs to it are not tracked, so the SYNPROXY target answers them itself.
        ip daddr {sp} tcp flags & (fin|syn|rst|ack) == syn notrack
    }}
    chain nat_pre {{
        type nat hook prerouting priority dstnat; policy accept;
        # ACKing firewall: every port is sent to one sink that accepts and never answers.
        ip daddr {af} tcp dport != 9 dnat ip to {af}:9
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        ip daddr {sp} tcp dport 0-65535 ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
        ip daddr {sp} ct state invalid drop
        ip daddr {filt} drop
        ip daddr {icmp} meta l4proto tcp reject with icmp type admin-prohibited
        ip daddr {retx} tcp flags & (syn|ack) != syn drop
{no_payload}
        ip daddr {dna} meta l4proto tcp drop
{guards}
    }}
    chain output {{
        type filter hook output priority filter; policy accept;
        # Zero window that never opens: every segment it sends advertises window 0.
        ip saddr {zw} tcp window set 0
    }}
}}
"""
