"""Cost of the simulated terminal's calls with a large book: order_send, positions_get, account_info and the
server's catch-up, in memory and with the broker on disk.

    .venv/bin/python bench/bench_sim_terminal.py [--positions 10000] [--rounds 200]

Opens ``--positions`` positions (with stops, so the trigger heaps are full), then measures each call.
order_send is measured in memory (trading logic only) and with the database (one commit per call).
Prints the median and p99; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.terminal import constants as mt5
from app.terminal.sim import SimulatedTerminal

START = 1_750_000_000.0
BUY = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.01, "type": mt5.ORDER_TYPE_BUY}


def _samples(fn: Callable[[], object], rounds: int) -> np.ndarray:
    out = np.empty(rounds)
    for i in range(rounds):
        t0 = time.perf_counter_ns()
        fn()
        out[i] = time.perf_counter_ns() - t0
    return out / 1000.0


def _report(label: str, micros: np.ndarray) -> None:
    median, p99 = (float(value) for value in np.percentile(micros, (50, 99)))
    unit = "us"
    if np.median(micros) >= 1000.0:
        median, p99, unit = median / 1000.0, p99 / 1000.0, "ms"
    print(f"{label:<52} median {median:>9.2f} {unit}   p99 {p99:>9.2f} {unit}   (n={len(micros)})")


def _fill(terminal: SimulatedTerminal, positions: int) -> float:
    bid = terminal.symbol_info_tick("EURUSD").bid
    request = {**BUY, "sl": round(bid - 0.01, 5), "tp": round(bid + 0.01, 5)}
    began = time.perf_counter()
    for _ in range(positions):
        result = terminal.order_send(request)
        assert result.retcode == mt5.TRADE_RETCODE_DONE, result
    return time.perf_counter() - began


def run(label: str, terminal: SimulatedTerminal, positions: int, rounds: int) -> None:
    terminal.initialize()
    took = _fill(terminal, positions)
    print(f"--- {label}: {positions} positions opened in {took:.2f} s ({took / positions * 1e6:.0f} us each)")
    tickets = [p.ticket for p in terminal.positions_get()]
    _report("order_send (open 0.01 lot)", _samples(lambda: terminal.order_send(BUY), rounds))
    closes = iter(tickets)
    _report(
        "order_send (close a position)",
        _samples(lambda: terminal.order_send({**BUY, "type": mt5.ORDER_TYPE_SELL, "position": next(closes)}), rounds),
    )
    _report("order_check", _samples(lambda: terminal.order_check(BUY), rounds))
    _report("positions_get() all", _samples(terminal.positions_get, max(rounds // 10, 5)))
    _report("positions_get(ticket=)", _samples(lambda: terminal.positions_get(ticket=tickets[-1]), rounds))
    _report("positions_get(symbol='GBPUSD') (empty)", _samples(lambda: terminal.positions_get(symbol="GBPUSD"), rounds))
    _report("account_info", _samples(terminal.account_info, rounds))
    _report("symbol_info_tick", _samples(lambda: terminal.symbol_info_tick("EURUSD"), rounds))
    _report("positions_total (catch-up only)", _samples(terminal.positions_total, rounds))
    terminal.control("set_speed", speed=1.0)
    _report("positions_total, clock at 1x (catch-up with ticks)", _samples(terminal.positions_total, rounds))
    terminal.control("set_speed", speed=0.0)
    _report("control advance(1 s)", _samples(lambda: terminal.control("advance", seconds=1.0), rounds))
    terminal.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    options = {"speed": 0.0, "start_time": START, "history_days": 2.0, "balance": 100_000_000.0}
    run("in memory", SimulatedTerminal(**options), args.positions, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        run("on disk", SimulatedTerminal(data_dir=Path(folder), **options), args.positions, args.rounds)
        began = time.perf_counter()
        reopened = SimulatedTerminal(data_dir=Path(folder), **options)
        print(f"--- reopening {args.positions} positions from disk took {time.perf_counter() - began:.2f} s")
        reopened.close()


if __name__ == "__main__":
    main()
