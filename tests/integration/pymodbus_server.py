#!/usr/bin/python3
"""An independent Modbus TCP server (pymodbus) for ecmond's client tests.

Usage: pymodbus_server.py PORT VALUES.json READY_FILE
VALUES.json maps "unit:table:address" to a list of register values. The
registers are computed by the test with Python's struct module, so ecmond's
decoding is checked against code nobody here wrote."""
import asyncio
import json
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncTcpServer


def main():
    port, values_file, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    spec = json.load(open(values_file))
    units = {}
    for key, regs in spec.items():
        unit, table, addr = key.split(":")
        u = units.setdefault(int(unit), {"holding": [0] * 600, "input": [0] * 600})
        u[table][int(addr):int(addr) + len(regs)] = regs
    slaves = {
        unit: ModbusSlaveContext(
            hr=ModbusSequentialDataBlock(0, t["holding"]),
            ir=ModbusSequentialDataBlock(0, t["input"]),
            zero_mode=True)
        for unit, t in units.items()
    }
    context = ModbusServerContext(slaves=slaves, single=False)

    async def run():
        server = StartAsyncTcpServer(context=context, address=("127.0.0.1", port),
                                     defer_start=False)
        task = asyncio.ensure_future(server)
        await asyncio.sleep(0.5)
        open(ready, "w").write("ready\n")
        await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
