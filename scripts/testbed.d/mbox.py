"""Listeners that misbehave like the middleboxes the LZR paper describes (one process for all of them).

    mbox.py SPEC.json      SPEC: [{"addr": "198.18.2.1", "port": 80, "behaviour": "rst"}, ...]

Behaviours:
  rst          accept, then close with SO_LINGER {1, 0}: the peer gets an RST right after the handshake
  rst_on_data  accept, wait for the first data, then RST
  fin          accept and send FIN at once (shutdown SHUT_WR); read and discard until the peer goes
  sink         accept and read forever, never write (also the listener behind zero-window, data-not-acked,
               SYN-ACK-retransmission and ACKing-firewall addresses, whose behaviour nftables makes)
Connections are dropped after IDLE seconds so a long run cannot pile them up. Standard library only.
"""

import json
import selectors
import signal
import socket
import struct
import sys
import time

IDLE = 60.0
LINGER_RST = struct.pack("ii", 1, 0)


def listen(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(512)
    s.setblocking(False)
    return s


def reset(conn):
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
    except OSError:
        pass
    conn.close()


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    sel = selectors.DefaultSelector()
    for entry in spec:
        sel.register(listen(entry["addr"], entry["port"]), selectors.EVENT_READ, ("listen", entry["behaviour"]))
    conns = {}  # socket -> (behaviour, deadline)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    while running[0]:
        for key, _ in sel.select(timeout=1.0):
            role, behaviour = key.data
            if role == "listen":
                try:
                    conn, _ = key.fileobj.accept()
                except OSError:
                    continue
                if behaviour == "rst":
                    reset(conn)
                    continue
                if behaviour == "fin":
                    try:
                        conn.shutdown(socket.SHUT_WR)
                    except OSError:
                        conn.close()
                        continue
                conn.setblocking(False)
                conns[conn] = time.monotonic() + IDLE
                sel.register(conn, selectors.EVENT_READ, ("conn", behaviour))
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if data and behaviour != "rst_on_data":
                continue
            sel.unregister(conn)
            conns.pop(conn, None)
            if data:
                reset(conn)
            else:
                conn.close()
        now = time.monotonic()
        for conn in [c for c, d in conns.items() if d < now]:
            sel.unregister(conn)
            del conns[conn]
            conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SPEC.json")
    main(sys.argv[1])
