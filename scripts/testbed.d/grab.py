"""Client-side probes run inside the scanner namespace (`ip netns exec NS python3 grab.py < jobs.json`).

Jobs (JSON list on stdin), each answered by one JSON object on stdout, in order, run concurrently:
  {"type": "tcp", "addr", "port", "payload_hex", "wait": s, "max": n}
      kernel socket: connect, send the payload, read the first answer. Reports connect result ("ok", "refused",
      "timeout", "unreachable", ...), "data_hex" (first recv, up to `max` bytes), "end" ("data", "eof", "reset",
      "silent") and "unacked" (bytes of ours still unacknowledged after the wait: SIOCOUTQ).
  {"type": "syn", "addr", "port", "listen": s}
      raw SYN from the kernel address with a random source port: reports every SYN-ACK/RST seen (window) and
      ICMP errors. The kernel answers a SYN-ACK it did not expect with an RST, which is fine for these checks.
Standard library only.
"""

import fcntl
import json
import os
import random
import select
import socket
import struct
import sys
import termios
import threading
import time

SIOCOUTQ = termios.TIOCOUTQ


def tcp_job(job):
    addr, port = job["addr"], job["port"]
    payload = bytes.fromhex(job.get("payload_hex", ""))
    wait = job.get("wait", 2.0)
    res = {"connect": "ok", "data_hex": "", "end": "silent", "unacked": 0}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(job.get("connect_timeout", 3.0))
    try:
        s.connect((addr, port))
    except ConnectionRefusedError:
        res["connect"] = "refused"
        return res
    except socket.timeout:
        res["connect"] = "timeout"
        return res
    except OSError as e:
        res["connect"] = {113: "unreachable", 101: "unreachable"}.get(e.errno, f"error:{e.errno}")
        return res
    try:
        if payload:
            s.sendall(payload)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                data = s.recv(job.get("max", 1024))
            except ConnectionResetError:
                res["end"] = "reset"
                break
            if not data:
                res["end"] = "eof"
                break
            res["data_hex"] = data.hex()
            res["end"] = "data"
            break
        if res["end"] == "silent" and payload:
            res["unacked"] = struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError as e:
        res["end"] = f"error:{e.errno}"
    finally:
        s.close()
    return res


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_job(job, src_ip):
    dst, dport = job["addr"], job["port"]
    sport = random.randint(40000, 60000)
    seq = random.getrandbits(32)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src_ip) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    hdr = hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx.sendto(hdr, (dst, 0))
    seen = []
    deadline = time.monotonic() + job.get("listen", 2.5)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([rx, icmp], [], [], left)
        for sock in r:
            pkt, (src, _) = sock.recvfrom(2048)
            ihl = (pkt[0] & 0x0F) * 4
            if sock is rx and src == dst:
                sp, dp, _, ack, _, flags, win = struct.unpack("!HHIIBBH", pkt[ihl:ihl + 16])
                if sp == dport and dp == sport:
                    kind = "synack" if flags & 0x12 == 0x12 else "rst" if flags & 0x04 else f"flags:{flags:#x}"
                    seen.append({"kind": kind, "window": win, "t": round(job.get("listen", 2.5) - left, 3)})
            elif sock is icmp:
                itype, code = pkt[ihl], pkt[ihl + 1]
                inner = pkt[ihl + 8:]
                iihl = (inner[0] & 0x0F) * 4 if inner else 0
                if len(inner) >= iihl + 4 and socket.inet_ntoa(inner[16:20]) == dst:
                    isp, idp = struct.unpack("!HH", inner[iihl:iihl + 4])
                    if isp == sport and idp == dport:
                        seen.append({"kind": f"icmp:{itype}/{code}", "window": 0, "t": 0})
    for sock in (rx, icmp, tx):
        sock.close()
    return {"seen": seen}


def main():
    jobs = json.load(sys.stdin)
    src_ip = os.environ.get("GRAB_SRC_IP", "198.18.0.1")
    results = [None] * len(jobs)
    limit = threading.Semaphore(48)

    def work(i, job):
        with limit:
            try:
                results[i] = tcp_job(job) if job["type"] == "tcp" else syn_job(job, src_ip)
            except Exception as e:  # a failed probe is a result, not a crash of the whole batch
                results[i] = {"error": f"{type(e).__name__}: {e}"}

    threads = [threading.Thread(target=work, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
