"""Round-trip cost of a gateway call through the worker process, against the same call in-process.

    .venv/bin/python bench/bench_gateway.py [--calls 10000] [--positions 5]

Three paths per call (symbol_info_tick, positions_get): the simulator called directly, the gateway over
the in-process transport (the gateway's own overhead), and the gateway over the spawned worker process
(what the program uses). Prints the median and p99 latency in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from app.terminal import constants as mt5
from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import InProcessTransport

SPEC = TerminalSpec(kind=TerminalKind.SIM, seed=99)
CALLS: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] = (
    ("symbol_info_tick", ("EURUSD",), {}),
    ("positions_get", (), {}),
)


def _buy() -> dict[str, Any]:
    return {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "type": mt5.ORDER_TYPE_BUY}


def _report(path: str, call: str, samples_ns: list[int]) -> None:
    micros = np.asarray(samples_ns, dtype=float) / 1000.0
    median, p99 = np.percentile(micros, (50, 99))
    print(f"{path:<26} {call:<18} {median:>10.1f} {p99:>10.1f} {len(micros) / micros.sum() * 1e6:>12.0f}")


def _time_sync(function: Callable[[], Any], calls: int) -> list[int]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - started)
    return samples


async def _time_async(function: Callable[[], Awaitable[Any]], calls: int) -> list[int]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        await function()
        samples.append(time.perf_counter_ns() - started)
    return samples


async def _bench_gateway(path: str, gateway: Gateway, calls: int, positions: int) -> None:
    await gateway.start()
    try:
        assert await gateway.connect()
        for _ in range(positions):
            assert (await gateway.order_send(_buy())).ok
        for name, args, kwargs in CALLS:
            await _time_async(lambda: gateway.call(name, *args, **kwargs), calls // 10)  # warm-up
            _report(path, name, await _time_async(lambda: gateway.call(name, *args, **kwargs), calls))
    finally:
        await gateway.close()


async def main(calls: int, positions: int) -> None:
    print(f"{calls} calls each, {positions} open positions; latency in microseconds")
    print(f"{'path':<26} {'call':<18} {'median':>10} {'p99':>10} {'calls/s':>12}")
    direct = SPEC.create_terminal()
    assert direct.initialize()
    for _ in range(positions):
        assert direct.order_send(_buy()).retcode == mt5.TRADE_RETCODE_DONE
    for name, args, kwargs in CALLS:
        function = getattr(direct, name)
        _time_sync(lambda: function(*args, **kwargs), calls // 10)
        _report("simulator, direct", name, _time_sync(lambda: function(*args, **kwargs), calls))
    direct.shutdown()
    await _bench_gateway("gateway, in-process", Gateway(SPEC, transport=InProcessTransport(SPEC)), calls, positions)
    await _bench_gateway("gateway, worker process", Gateway(SPEC), calls, positions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.calls, options.positions))
