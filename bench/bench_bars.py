"""A bar close's bars through the terminal's worker: one round trip for every symbol against one per series.

    .venv/bin/python bench/bench_bars.py [--rounds 15]

Production path (the simulator in its worker, 20 symbols, one trade each). Alternating, per round: the M5 and
M15 bars of every symbol fetched one call after the other (how a bar close fetched them before), then
``MarketData.refresh_bars_many`` (one round trip). Prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from app.terminal import constants as mt5
from bench.bench_scale import fill, open_engine


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DTMS_LOCK_DIR"] = str(Path(tmp) / "locks")
        services = await open_engine(Path(tmp) / "worker", worker=True)
        try:
            await fill(services, 20)  # one trade on each of the 20 symbols
            market = services.engine.market
            symbols = sorted(market.symbols())
            one_by_one: list[float] = []
            together: list[float] = []
            for _ in range(rounds):
                started = time.perf_counter()
                for symbol in symbols:
                    await services.gateway.rates(symbol, mt5.TIMEFRAME_M5, 0, 600)
                    await services.gateway.rates(symbol, mt5.TIMEFRAME_M15, 0, 300)
                one_by_one.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await market.refresh_bars_many(symbols, force=True)
                together.append((time.perf_counter() - started) * 1000)
            before, now = statistics.median(one_by_one), statistics.median(together)
            print(
                f"{len(symbols)} symbols' M5 and M15 bars through the worker: one call per series {before:.1f} ms, "
                f"one round trip {now:.1f} ms (medians of {rounds}, alternating); ratio {now / before:.2f}x"
            )
        finally:
            await services.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args().rounds))
