"""The probe bytes of the original's 36 handshake modules (reference §6.1-§6.3), for the corpus capture and the
smoke check. The TLS ClientHello's 32 random bytes are zero so captures are reproducible."""

UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/129.0.0.0 Safari/537.3")

TLS_HELLO = bytes.fromhex(
    "1603010075010000710303" + "00" * 32 +
    "00001ac02fc02bc011c007c013c009c014c00a0005002f0035c012000a0100002e000500050100000000000a0008000600170018"
    "0019000b00020100000d000a00080401040302010203ff01000100")


def crc_dnp(data):
    """CRC-16/DNP: reflected polynomial 0xA6BC, init 0, final XOR 0xFFFF."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return (crc ^ 0xFFFF) & 0xFFFF


def dnp3_probe():
    out = bytearray(b"\x00\x00")
    for d in range(100):
        head = bytes([0x05, 0x64, 0x05, 0xC9, d & 0xFF, d >> 8, 0x00, 0x00])
        out += head + crc_dnp(head).to_bytes(2, "little")
    return bytes(out)


FOX = ("fox a 1 -1 fox hello\n{\nfox.version=s:1.0\nid=i:1\nhostName=s:xpvm-0omdc01xmy\n"
       "hostAddress=s:192.168.1.125\napp.name=s:Workbench\napp.version=s:3.7.44\n"
       "vm.name=s:Java HotSpot(TM) Server VM\nvm.version=s:20.4-b02\nos.name=s:Windows XP\nos.version=s:5.1\n"
       "lang=s:en\ntimeZone=s:America/Los_Angeles;-28800000;3600000;02:00:00.000,wall,march,8,on or after,"
       "sunday,undefined;02:00:00.000,wall,november,1,on or after,sunday,undefined\n"
       "hostId=s:Win-99CB-D49D-5442-07BB\nvmUuid=s:8b530bc8-76c5-4139-a2ea-0fabd394d305\nbrandId=s:vykon\n};;\n"
       ).encode()

ORACLE = (bytes.fromhex("006d0000010000000138012c0c412000ffff7f080000010000330" "03a00000800" "4141") +
          b"\x00" * 24 + b"(DESCRIPTION=(CONNECT_DATA=(CID=(PROGRAM=lzrORA))))")


def http(dst):
    return (f"GET / HTTP/1.1\r\nHost: {dst}\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
            f"User-Agent: {UA}\r\n\r\n").encode()


def ipp(dst):
    return (f"POST /ipp HTTP/1.1\r\nHost: {dst}\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
            f"Content-Type: application/ipp\r\nUser-Agent: {UA}\r\n\r\n").encode()


STATIC = {
    "wait": b"", "ftp": b"", "imap": b"", "pop3": b"", "mysql": b"", "telnet": b"", "vnc": b"",
    "tls": TLS_HELLO,
    "kubernetes": TLS_HELLO,
    "ssh": b"SSH-2.0-Go\r\n",
    "smtp": b"EHLO\r\n",
    "rtsp": b"OPTIONS / RTSP/1.0\r\n\r\n",
    "redis": b"*1\r\n$4\r\nPING\r\n",
    "memcached_ascii": b"stats\r\n",
    "memcached_binary": b"\x80\x10" + b"\x00" * 22,
    "mongodb": bytes.fromhex("3a000000" "00000000" "00000000" "d4070000" "00000000") + b"admin.$cmd\x00" + bytes.fromhex(
        "00000000" "01000000" "13000000" "10") + b"isMaster\x00" + bytes.fromhex("01000000" "00"),
    "postgres": bytes.fromhex("0000000804d2162f"),
    "mqtt": bytes.fromhex("100f00044d5154540400000a00034c5a52"),
    "amqp": b"AMQP\x00\x01\x00\x00",
    "modbus": bytes.fromhex("5a4700000005002b0e0100"),
    "siemens": bytes.fromhex("0300001611e00000000400c1020100c2020200c0010a"),
    "dnp3": dnp3_probe(),
    "fox": FOX,
    "rdp": bytes.fromhex("030000262" "1e00000feca00") + b"Cookie: mstshash=" + bytes.fromhex("0d0a0100080001000000"),
    "pptp": bytes.fromhex("009c00011a2b3c4d00010000010000000000000100000001ffff0001") + b"\x00" * 128,
    "smb": bytes.fromhex("00000027ff534d4272") + b"\x00" * 20 + bytes.fromhex("0e0002") + b"NT LM 0.12\x00",
    "mssql": bytes.fromhex("1201002f0000020000001a00060100020001020021000103002200040400260001ff"
                           "00000000000001000000000000"),
    "oracle": ORACLE,
    "dns": bytes.fromhex("0023396201000001000000000000") + b"\x0dstackoverflow\x03com\x00" + bytes.fromhex("00010001"),
    "ipmi": bytes.fromhex("0600ff0700000000000000000009201" "8c88100388e04b5"),
    "bgp": b"\n\n",
    "x11": bytes.fromhex("6c000b000000000000000000"),
    "newlines": b"\n\n",
    "newlines50": b"\n" * 50,
}

SIZES = {"tls": 122, "kubernetes": 122, "ssh": 12, "smtp": 6, "rtsp": 22, "redis": 14, "memcached_ascii": 7,
         "memcached_binary": 24, "mongodb": 58, "postgres": 8, "mqtt": 17, "amqp": 8, "modbus": 11,
         "siemens": 22, "dnp3": 1002, "fox": 513, "rdp": 38, "pptp": 156, "smb": 43, "mssql": 47,
         "oracle": 109, "dns": 37, "ipmi": 23, "bgp": 2, "x11": 12, "newlines": 2, "newlines50": 50}

NAMES = sorted(list(STATIC) + ["http", "ipp"])
SERVER_FIRST = {"wait", "ftp", "imap", "pop3", "mysql", "telnet", "vnc"}


def probe(name, dst):
    if name == "http":
        return http(dst)
    if name == "ipp":
        return ipp(dst)
    return STATIC[name]


def _self_check():
    assert len(NAMES) == 36, len(NAMES)
    for n, size in SIZES.items():
        assert len(STATIC[n]) == size, (n, len(STATIC[n]), size)
    assert len(http("1.2.3.4")) == 186 + 7 and len(ipp("1.2.3.4")) == 221 + 7
    assert STATIC["dnp3"][2:12] == bytes.fromhex("056405c900000000364c")


_self_check()
