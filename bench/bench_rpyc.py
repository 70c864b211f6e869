"""A terminal behind an RPyC classic server (``rpyc://`` on loopback) against the local worker, in the same run.

    .venv/bin/python bench/bench_rpyc.py [--calls 2000] [--trades 100] [--cycles 20]

Both paths run the same simulated terminal (same seed, clock frozen, preset symbols), and both go through the
gateway's worker process: "local" builds the simulator inside the worker, as the program does for a local
terminal; "rpyc" has the worker call an RPyC classic server in another process whose MetaTrader5 is the
simulator's face. Part 1: gateway round trips (median and p99 in microseconds). Part 2: the engine's fast cycle
with ``--trades`` managed trades. The two desks take turns (blocks of calls, single cycles), so both run under the
same machine load.
Ratios are rpyc / local.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import AppSettings
from app.engine.registry import Registration
from app.runtime import RuntimeOptions, Services
from app.terminal.sim.symbols import preset_symbols
from app.terminal.spec import TerminalKind
from tests.terminal.rpyc_harness import HOST, RpycServer

START = 1_772_618_400.0  # 2026-03-04 10:00 UTC, a Wednesday in the London session
SEED = 20240601
CALLS: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] = (
    ("symbol_info_tick", ("EURUSD",), {}),
    ("positions_get", (), {}),
    ("copy_rates_from_pos", ("EURUSD", 1, 0, 100), {}),
)


async def no_sleep(_: float) -> None:
    return None


@dataclass
class Desk:
    name: str
    services: Services
    control: Callable[..., Any]


async def open_local(data_dir: Path) -> Desk:
    options = RuntimeOptions(
        data_dir=data_dir,
        settings=AppSettings(),
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_seed=SEED,
        sim_start=_start(),
    )
    services = await Services.open(options, sleep=no_sleep, autorun=False)

    def control(command: str, **kwargs: Any) -> Any:
        return services.gateway.control(command, **kwargs)

    return Desk("local worker", services, control)


async def open_rpyc(data_dir: Path, server: RpycServer) -> Desk:
    options = RuntimeOptions(
        data_dir=data_dir, settings=AppSettings(), terminal=TerminalKind.RPYC, rpyc_address=(HOST, server.port)
    )
    services = await Services.open(options, sleep=no_sleep, autorun=False)

    async def control(command: str, **kwargs: Any) -> Any:
        return server.control(command, **kwargs)

    return Desk("rpyc:// loopback", services, control)


def _start() -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(START, tz=UTC)


async def fill(desk: Desk, count: int) -> None:
    specs = preset_symbols()
    symbols = list(specs)
    await desk.control("configure_account", balance=1e9, leverage=500)
    for i in range(count):
        symbol = symbols[i % len(symbols)]
        result = await desk.control(
            "open_position", symbol=symbol, type="BUY" if i % 2 else "SELL", volume=specs[symbol].volume_min
        )
        if result["retcode"] != 10009:
            raise RuntimeError(f"could not open a position on {symbol}: {result['retcode']} {result['comment']}")
        await desk.services.engine.register(Registration(ticket=int(result["order"])))


async def round_trips(desks: list[Desk], calls: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Median and p99 per call and desk; the desks take turns in blocks of 50 calls, so both see the same load."""
    samples: dict[str, dict[str, list[int]]] = {d.name: {name: [] for name, *_ in CALLS} for d in desks}
    for name, args, kwargs in CALLS:
        for desk in desks:
            for _ in range(calls // 10):
                await desk.services.gateway.call(name, *args, **kwargs)
        for _ in range(0, calls, 50):
            for desk in desks:
                gateway, bucket = desk.services.gateway, samples[desk.name][name]
                for _ in range(50):
                    started = time.perf_counter_ns()
                    await gateway.call(name, *args, **kwargs)
                    bucket.append(time.perf_counter_ns() - started)
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    for desk_name, by_call in samples.items():
        figures[desk_name] = {}
        for name, values in by_call.items():
            median, p99 = np.percentile(np.asarray(values, dtype=float) / 1000.0, (50, 99))
            figures[desk_name][name] = (float(median), float(p99))
    return figures


async def cycles(desks: list[Desk], count: int) -> dict[str, tuple[float, float, float, int]]:
    """Fast cycles, the desks taking turns; median cpu and wall, worst wall, median MT5 calls per desk."""
    cpu: dict[str, list[float]] = {d.name: [] for d in desks}
    wall: dict[str, list[float]] = {d.name: [] for d in desks}
    calls: dict[str, list[int]] = {d.name: [] for d in desks}
    for _ in range(count):
        for desk in desks:
            await desk.control("advance", seconds=1.0)
            report = await desk.services.engine.run_fast_cycle()
            cpu[desk.name].append(report.cpu_s)
            wall[desk.name].append(report.duration_s)
            calls[desk.name].append(report.calls)
    return {
        name: (
            statistics.median(cpu[name]),
            statistics.median(wall[name]),
            max(wall[name]),
            int(statistics.median(calls[name])),
        )
        for name in cpu
    }


async def main(calls: int, trades: int, cycle_count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = RpycServer(
            face=True,
            options={"speed": 0.0, "start_time": START, "seed": SEED, "data_dir": str(root / "server-broker")},
        ).start()
        desks: list[Desk] = []
        try:
            desks = [await open_local(root / "local"), await open_rpyc(root / "rpyc", server)]
            for desk in desks:
                assert await desk.services.engine.start(), desk.services.engine.lifecycle.reason
                await fill(desk, trades)
            trips = await round_trips(desks, calls)
            cycled = await cycles(desks, cycle_count)
        finally:
            for desk in desks:
                await desk.services.close()
            server.stop()
    local, remote = (d.name for d in desks)
    print(f"Gateway round trips with {trades} open positions, {calls} calls each (microseconds)")
    print(f"{'call':<22} {'local p50':>10} {'local p99':>10} {'rpyc p50':>10} {'rpyc p99':>10} {'p50 ratio':>10}")
    for name, *_ in CALLS:
        (lm, lp), (rm, rp) = trips[local][name], trips[remote][name]
        print(f"{name:<22} {lm:>10.0f} {lp:>10.0f} {rm:>10.0f} {rp:>10.0f} {rm / lm:>9.1f}x")
    print(f"\nFast cycle with {trades} managed trades, median of {cycle_count} cycles")
    print(f"{'path':<18} {'wall ms':>9} {'max wall ms':>12} {'cpu ms':>8} {'MT5 calls':>10}")
    for desk in desks:
        cpu, wall, worst, n = cycled[desk.name]
        print(f"{desk.name:<18} {wall * 1000:>9.2f} {worst * 1000:>12.2f} {cpu * 1000:>8.2f} {n:>10}")
    print(f"rpyc / local wall per cycle: {cycled[remote][1] / cycled[local][1]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--trades", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.calls, options.trades, options.cycles))
