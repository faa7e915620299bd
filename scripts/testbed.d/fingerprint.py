"""An independent oracle of the original's fingerprint rules (reference §6 Verify rules, §7 matching), used only by
the bed's smoke check to confirm that each ground-truth label is what the original would give the answer a real
server sends here. The product's implementation lives in Rust (src/handshakes); this one is a test oracle written
separately on purpose, so a mistake in either shows up as a disagreement."""


def _ascii(d):
    return bool(d) and all(b < 0x80 for b in d)


def _low(d):
    return d.lower()


def _ftp(d):
    if not _ascii(d):
        return False
    lo = _low(d)
    if b"ftp" in lo:
        return True
    return len(d) >= 4 and d[:3] in (b"220", b"421", b"530", b"550", b"230") and b"smtp" not in lo \
        and b"ehlo" not in lo


def _imap(d):
    if not _ascii(d) or d.startswith((b"+OK", b"-ERR")):
        return False
    return d.startswith((b"* OK", b"* BYE", b"* PREAUTH")) or b"imap" in _low(d) or b"* OK" in d


def _pop3(d):
    if not _ascii(d) or d.startswith((b"* OK", b"* BYE", b"* PREAUTH")):
        return False
    return d.startswith((b"+OK", b"-ERR")) or b"pop3" in _low(d) or b"+OK" in d


def _smtp(d):
    lo = _low(d)
    if b"smtp" in lo or b"ehlo" in lo:
        return True
    return len(d) >= 4 and d[:3] in (b"220", b"421", b"530", b"550", b"230") and b"ftp" not in lo


def _tls(d):
    if len(d) < 3:
        return ""
    if b"HTTPS" in d:
        return "tls"
    if d[0] in (0x16, 0x14, 0x15, 0x17) and d[1:3] in (b"\x03\x01", b"\x03\x02", b"\x03\x03", b"\x03\x04"):
        return "tls"
    return "ssl" if d[1:3] == b"\x03\x00" else ""


IPMI_OK = bytes.fromhex("0000000209000000010000000000000000")

RULES = {
    "amqp": lambda d: b"AMQP" in d,
    "bgp": lambda d: len(d) >= 16 and d[:16] == b"\xff" * 16,
    "dnp3": lambda d: len(d) >= 10 and d[:2] == b"\x05\x64",
    "dns": lambda d: b"stackoverflow" in d,
    "fox": lambda d: d.startswith(b"fox a 0 -1 fox hello"),
    "ftp": _ftp,
    "http": lambda d: b"HTTPS" not in d and any(k in d for k in (b"HTTP", b"html", b"HTML", b"<h1>")),
    "imap": _imap,
    "ipmi": lambda d: d == IPMI_OK or (len(d) >= 4 and d[:4] == b"\x06\x00\xff\x07"),
    "ipp": lambda d: b"ipp" in d and b"200 OK" in d and (b"attributes-charset" in d or b"print" in d),
    "kubernetes": lambda d: b"kubernetes" in d,
    "memcached_ascii": lambda d: b"STAT" in d and b"pid" in d,
    "memcached_binary": lambda d: (len(d) >= 1 and d[0] == 0x81) or b"ERROR\r\n" in d,
    "modbus": lambda d: len(d) >= 4 and d[:4] == b"\x5a\x47\x00\x00",
    "mongodb": lambda d: b"maxBsonObjectSize" in d or b"MongoDB" in d,
    "mqtt": lambda d: len(d) == 4 and d[0] == 0x20 and d[3] <= 5,
    "mssql": lambda d: len(d) >= 6 and d[0] == 0x04 and d[1] == 0x01,
    "mysql": lambda d: len(d) >= 49 and d[3] == 0 and d[4] == 0x0A,
    "oracle": lambda d: b"DESCRIPTION=(" in d and b"(EMFI=4)" in d,
    "pop3": _pop3,
    "postgres": lambda d: len(d) == 1 and d in (b"N", b"S", b"E"),
    "pptp": lambda d: b"+<M" in d,
    "rdp": lambda d: len(d) >= 11 and d[:10] == bytes.fromhex("030000130ed0feca1234"),
    "redis": lambda d: (len(d) == 7 and b"PONG" in d) or b"Redis" in d or b"-ERR unknown" in d,
    "rtsp": lambda d: b"RTSP" in d,
    "siemens": lambda d: len(d) >= 6 and d[5] == 0xD0 and d[4] + 1 == len(d) - 4,
    "smb": lambda d: b"SMB" in d,
    "smtp": _smtp,
    "ssh": lambda d: _ascii(d) and b"ssh" in _low(d) and b"not implemented" not in d and b"bad" not in d,
    "telnet": lambda d: len(d) >= 2 and (b"telnet" in _low(d) or d[1] in (0xFF, 0xFE, 0xFD, 0xFC, 0xFB)),
    "vnc": lambda d: b"RFB" in d,
}


def labels(data):
    """Every module label that matches, in the original's sorted module order."""
    out = []
    for name in sorted(RULES.keys() | {"tls"}):
        if name == "tls":
            lab = _tls(data)
            if lab:
                out.append(lab)
        elif RULES[name](data):
            out.append(name)
    return out


def fingerprint(data, preference=()):
    """The original's label for `data` when scanning with handshakes `preference` (§7)."""
    found = labels(data)
    if not found:
        return "unknown"
    joined = "-".join(found)
    if len(found) == 1:
        return joined
    for p in preference:
        if p in joined:
            return p
    for need, result in ((("smtp", "ftp"), "smtp-ftp"), (("telnet", "bgp"), "bgp"), (("smtp",), "smtp"),
                         (("ipp",), "ipp"), (("kubernetes",), "kubernetes"), (("dns", "http"), "http"),
                         (("ssh", "http"), "http"), (("ftp", "http"), "http"), (("ftp", "ssh"), "ssh"),
                         (("tls", "http"), "tls")):
        if all(n in joined for n in need):
            return result
    return joined
