"""Cost of the simulated market: construction, quote(), rates_from_pos(600), ticks and clock jumps.

    .venv/bin/python bench/bench_market.py [--days 21] [--rounds 2000]

Construction builds the history of the five preset symbols. quote() is measured with the clock running at
1x (the usual case: most calls find nothing new) and on a clock stepped 1 s before each call (a tick is due
at most calls). Ticks are read once from the live buffer and once from bars days old (synthesised).
Prints the median and p99 in microseconds (milliseconds for construction and jumps); asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from app.terminal import constants as mt5
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import Market

START = 1_750_000_000.0


def _samples(fn: Callable[[], object], rounds: int) -> np.ndarray:
    out = np.empty(rounds)
    for i in range(rounds):
        t0 = time.perf_counter_ns()
        fn()
        out[i] = time.perf_counter_ns() - t0
    return out / 1000.0


def _report(label: str, micros: np.ndarray, unit: str = "us") -> None:
    scale = 1000.0 if unit == "ms" else 1.0
    median, p99 = np.percentile(micros / scale, (50, 99))
    print(f"{label:<44} median {median:>9.2f} {unit}   p99 {p99:>9.2f} {unit}   (n={len(micros)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=21.0, help="history length in days")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    def build() -> Market:
        return Market(clock=SimClock(start=START, speed=0.0), seed=1, history_days=args.days)

    _report(f"construction, 5 symbols, {args.days:g} days", _samples(build, 7), "ms")

    wall_clock = SimClock(speed=1.0)
    market = Market(clock=wall_clock, seed=1, history_days=args.days)
    _report("quote() at 1x (amortised)", _samples(lambda: market.quote("EURUSD"), args.rounds * 10))
    stepped_clock = SimClock(start=START, speed=0.0)
    stepped = Market(clock=stepped_clock, seed=1, history_days=args.days)

    def step_then(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            stepped_clock.advance(1.0)
            return fn()

        return run

    step_cost = _samples(lambda: stepped_clock.advance(1.0), args.rounds)
    _report(
        "quote() after a 1 s clock step",
        _samples(step_then(lambda: stepped.quote("EURUSD")), args.rounds) - np.median(step_cost),
    )
    _report(
        "advance_to_now() after a 1 s step, 5 symbols",
        _samples(step_then(stepped.advance_to_now), args.rounds) - np.median(step_cost),
    )

    for tf, name in (
        (mt5.TIMEFRAME_M1, "M1"),
        (mt5.TIMEFRAME_M5, "M5"),
        (mt5.TIMEFRAME_M15, "M15"),
        (mt5.TIMEFRAME_H4, "H4"),
    ):
        _report(
            f"rates_from_pos({name}, 0, 600)",
            _samples(partial(market.rates_from_pos, "EURUSD", tf, 0, 600), args.rounds),
        )
    time.sleep(1.0)
    now = wall_clock.now()
    _report(
        "ticks_range(last 0.5 s, live)",
        _samples(lambda: market.ticks_range("BTCUSD", now - 0.5, now, mt5.COPY_TICKS_ALL), args.rounds),
    )
    _report(
        "ticks_range(1 h, 3 days ago, synthesised)",
        _samples(
            lambda: market.ticks_range("BTCUSD", now - 3 * 86400, now - 3 * 86400 + 3600, mt5.COPY_TICKS_ALL), 200
        ),
        "ms",
    )

    jumps = []
    for _ in range(5):
        clock = SimClock(start=START, speed=0.0)
        jumping = Market(clock=clock, seed=2, history_days=1.0)
        clock.advance(3 * 86400)
        t0 = time.perf_counter_ns()
        jumping.advance_to_now()
        jumps.append((time.perf_counter_ns() - t0) / 1000.0)
    _report("advance_to_now() after a 3-day jump", np.array(jumps), "ms")

    began = time.perf_counter()
    snapshot = market.snapshot()
    print(f"{'snapshot()':<44} {1000 * (time.perf_counter() - began):>16.2f} ms")
    began = time.perf_counter()
    Market(clock=SimClock(start=START, speed=0.0), seed=5, history_days=args.days).restore(snapshot)
    print(f"{'construction + restore()':<44} {1000 * (time.perf_counter() - began):>16.2f} ms")


if __name__ == "__main__":
    main()
