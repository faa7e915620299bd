"""Industrial and database protocols served by pinned PyPI packages (run with /opt/lzr-testbed-venv's python).

    pyservers.py modbus|s7|mongodb|dnp3 ADDRESS PORT

modbus:  pymodbus' TCP server with a device identity (answers Read Device Identification).
s7:      python-snap7's pure-Python S7 server (answers the COTP connection request).
mongodb: mockupdb answering OP_QUERY isMaster the way a MongoDB 3.6 server does.
dnp3:    dnp3-outstation's outstation logic (link address 10) behind our own TCP framing: the package's reader
         takes fixed 10-byte headers from the stream and never resynchronises, so a stream that starts with
         anything but 05 64 (lzr's probe starts with 00 00) would stay misaligned. Real outstations hunt for the
         05 64 start bytes; so does this wrapper, then hands each whole frame to the package's Outstation.
"""

import asyncio
import logging
import signal
import sys
import threading


def serve_modbus(addr, port):
    from pymodbus.datastore import ModbusDeviceContext, ModbusServerContext, ModbusSequentialDataBlock
    from pymodbus.pdu.device import ModbusDeviceIdentification
    from pymodbus.server import StartAsyncTcpServer

    block = ModbusSequentialDataBlock(1, [0] * 16)
    device = ModbusDeviceContext(di=block, co=block, hr=block, ir=block)
    identity = ModbusDeviceIdentification(info_name={
        "VendorName": "lzr-testbed", "ProductCode": "LZR", "MajorMinorRevision": "1.0",
        "ProductName": "lzr test bed modbus server", "ModelName": "pymodbus"})
    asyncio.run(StartAsyncTcpServer(ModbusServerContext(devices=device), identity=identity,
                                    address=(addr, port)))


def serve_s7(addr, port):
    import snap7

    server = snap7.server.Server(log=False)
    server.start_to(addr, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    server.stop()


def serve_mongodb(addr, port):
    from mockupdb import MockupDB

    reply = {"ismaster": True, "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
             "maxWriteBatchSize": 100000, "localTime": None, "minWireVersion": 0, "maxWireVersion": 6,
             "readOnly": False, "ok": 1.0}
    import datetime
    reply["localTime"] = datetime.datetime(2020, 6, 1, tzinfo=datetime.timezone.utc)
    server = MockupDB(port=port, auto_ismaster=reply, request_timeout=5)
    server._address = (addr, port)  # mockupdb binds localhost only; the bed needs a given address
    server.run()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    server.stop()


DNP3_OUTSTATION_ADDR = 10
DNP3_MASTER_ADDR = 0


def serve_dnp3(addr, port):
    from dnp3_outstation.outstation import Outstation

    async def handle(reader, writer):
        station = Outstation(master_addr=DNP3_MASTER_ADDR, outstation_addr=DNP3_OUTSTATION_ADDR)
        buf = bytearray()
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(4096), timeout=30)
                if not chunk:
                    break
                buf += chunk
                while True:
                    start = buf.find(b"\x05\x64")
                    if start < 0:
                        del buf[:-1]  # keep a trailing 05 that may begin a frame
                        break
                    del buf[:start]
                    if len(buf) < 10:
                        break
                    user_len = max(0, buf[2] - 5)
                    blocks = (user_len + 15) // 16
                    total = 10 + user_len + 2 * blocks
                    if len(buf) < total:
                        break
                    frame = bytes(buf[:total])
                    del buf[:total]
                    reply = station.handle_inbound(frame)
                    if reply:
                        writer.write(reply)
                        await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, addr, port)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, done.set)
        async with server:
            await done.wait()

    logging.getLogger("dnp3_outstation").setLevel(logging.ERROR)
    asyncio.run(main())


SERVERS = {"modbus": serve_modbus, "s7": serve_s7, "mongodb": serve_mongodb, "dnp3": serve_dnp3}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in SERVERS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(SERVERS)} ADDRESS PORT")
    logging.basicConfig(level=logging.WARNING)
    SERVERS[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
