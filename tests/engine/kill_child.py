"""Child process for the kill -9 test: runs the engine on a data directory, opens positions in the simulated
terminal and registers them, printing ``ACK <ticket>`` only after each registration returned, and
``STATE <ticket>`` after each acknowledged state change (unregister). It runs until it is killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.engine.conftest import open_services


async def run(data_dir: Path) -> None:
    services = await open_services(data_dir)
    assert await services.engine.start()
    print("READY", flush=True)
    n = 0
    while True:
        n += 1
        result = await services.gateway.control("open_position", symbol="EURUSD", type="BUY", volume=0.01)
        ticket = int(result["order"])
        from app.engine.registry import Registration

        await services.engine.register(Registration(ticket=ticket))
        print(f"ACK {ticket}", flush=True)
        if n % 3 == 0:
            await services.engine.unregister(ticket)
            print(f"STATE {ticket}", flush=True)


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1])))
