"""Fast-cycle cost with 10, 100, 1,000 and 10,000 managed trades over 20 symbols, and recovery time for
10,000 persisted trades. Runs the real engine on the simulator in this process (the terminal's own cost is
included in the wall time; CPU time is this process's).

    .venv/bin/python bench/bench_engine.py [--max 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import AppSettings  # noqa: E402
from app.engine.registry import Registration  # noqa: E402
from app.runtime import RuntimeOptions, Services  # noqa: E402
from app.terminal.spec import TerminalKind, TerminalSpec  # noqa: E402
from app.terminal.transport import InProcessTransport  # noqa: E402


async def no_sleep(_: float) -> None:
    return None


async def open_engine(data_dir: Path) -> Services:
    os.environ["DTMS_BENCH_DATA_DIR"] = str(data_dir)
    sys.modules.pop("bench.sim20", None)  # a fresh terminal on this data directory
    options = RuntimeOptions(data_dir=data_dir, settings=AppSettings(), terminal=TerminalKind.SIM, sim_speed=0.0)
    spec = TerminalSpec(kind=TerminalKind.MODULE, module="bench.sim20:TERMINAL")
    return await Services.open(options, transport=InProcessTransport(spec), sleep=no_sleep, autorun=False)


async def fill(services: Services, count: int) -> None:
    from bench.sim20 import twenty_symbols

    specs = twenty_symbols()
    symbols = list(specs)
    have = len(services.engine.trades())
    for i in range(have, count):
        symbol = symbols[i % 20]
        result = await services.gateway.control(
            "open_position", symbol=symbol, type="BUY" if i % 2 else "SELL", volume=specs[symbol].volume_min
        )
        if result["retcode"] != 10009:
            raise RuntimeError(f"could not open a position on {symbol}: {result['retcode']} {result['comment']}")
        await services.engine.register(Registration(ticket=int(result["order"])))


async def measure(services: Services, cycles: int) -> tuple[float, float, float, int]:
    cpu, wall, calls = [], [], []
    for _ in range(cycles):
        await services.gateway.control("advance", seconds=1.0)
        report = await services.engine.run_fast_cycle()
        cpu.append(report.cpu_s)
        wall.append(report.duration_s)
        calls.append(report.calls)
    return statistics.median(cpu), statistics.median(wall), max(wall), int(statistics.median(calls))


async def main(limit: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        services = await open_engine(data_dir)
        await services.engine.start()
        await services.gateway.control("configure_account", balance=1e9, leverage=500)
        print(f"{'trades':>7} {'cpu/cycle ms':>13} {'wall/cycle ms':>14} {'max wall ms':>12} {'MT5 calls/cycle':>16}")
        for count in (10, 100, 1_000, 10_000):
            if count > limit:
                break
            await fill(services, count)
            cycles = 20 if count <= 1000 else 5
            cpu, wall, worst, calls = await measure(services, cycles)
            print(f"{count:>7} {cpu * 1000:>13.2f} {wall * 1000:>14.2f} {worst * 1000:>12.2f} {calls:>16}")
        persisted = len(services.engine.trades())
        await services.close()

        started = time.perf_counter()
        again = await open_engine(data_dir)
        await again.engine.start()
        recovered = len(again.engine.trades())
        print(
            f"recovery of {persisted} persisted trades to READY: {time.perf_counter() - started:.2f} s "
            f"({recovered} trades resumed)"
        )
        await again.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().max))
