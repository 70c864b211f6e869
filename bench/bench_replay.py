"""Replay of the EURUSD H1 sample that backtesting.py ships (about 5,000 bars, 2017-2018) with 300 generated
trades: wall and CPU time, and simulated hours per wall second, for each fast-cycle step asked for.

    .venv/bin/python bench/bench_replay.py [--entries 300] [--cycles 300,60]

The sample is read from the installed package (``pip install backtesting``, in the test extra); it is not
copied into this repository.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.replay.command import save
from app.replay.runner import ReplayRequest, run_replay


def sample() -> Path:
    return Path(str(importlib.resources.files("backtesting") / "test" / "EURUSD.csv"))


def main(entries: int, cycles: list[float]) -> None:
    print(
        f"{'cycle s':>8} {'trades':>7} {'wall s':>8} {'cpu s':>8} {'sim h':>8} {'sim h / wall s':>15} "
        f"{'mean R unmanaged':>17} {'mean R managed':>15}"
    )
    walls = {}
    for cycle in cycles:
        started, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(
            run_replay(ReplayRequest(bars={"EURUSD": sample()}, entries=entries, seed=1, cycle_seconds=cycle))
        )
        with tempfile.TemporaryDirectory() as tmp:
            _, data = save(result, Path(tmp) / "out")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        walls[cycle] = wall
        print(
            f"{cycle:>8g} {len(result.trades):>7} {wall:>8.1f} {cpu:>8.1f} {result.sim_hours:>8.0f} "
            f"{result.sim_hours / wall:>15.0f} {data['unmanaged']['mean_r']:>17.3f} {data['managed']['mean_r']:>15.3f}"
        )
    if len(walls) > 1:
        base = cycles[0]
        for cycle in cycles[1:]:
            print(f"wall ratio cycle {cycle:g} s / cycle {base:g} s: {walls[cycle] / walls[base]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--cycles", default="300,60", help="fast-cycle steps in simulated seconds, comma separated")
    args = parser.parse_args()
    main(args.entries, [float(v) for v in args.cycles.split(",")])
