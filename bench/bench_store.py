"""Store figures: bulk insert, recovery load, single-save latency, and event-loop lag while writing.

Run: ``.venv/bin/python bench/bench_store.py [--rows 10000]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.engine.model import DefensiveState, Direction, Trade
from app.store import Repository

TICK = 0.005


def make_trade(ticket: int) -> Trade:
    return Trade(
        ticket=ticket,
        symbol="EURUSD",
        direction=Direction.BUY if ticket % 2 else Direction.SELL,
        entry=1.1,
        volume=0.1,
        sl=1.09,
        tp=1.12,
        comment="bench",
        sent={"symbol": "EURUSD", "direction": "buy", "entry": 1.1, "volume": 0.1},
        registered_at=1_700_000_000.0 + ticket,
        initial_sl=1.09,
        initial_volume=0.1,
        r=0.01,
        score=0.5,
        score_explanation="momentum +0.5",
    )


async def max_lag_during(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Runs ``work`` next to a 5 ms ticker; returns (seconds the work took, the ticker's worst lateness)."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            due = time.perf_counter() + TICK
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - due)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # ticker running before the work starts
    started = time.perf_counter()
    await work()
    took = time.perf_counter() - started
    done.set()
    await ticking
    return took, max(lags)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


async def main(rows: int, singles: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        repository = await Repository.open(path)
        trades = [make_trade(n) for n in range(1, rows + 1)]

        started = time.perf_counter()
        await repository.save_trades(trades)
        took = time.perf_counter() - started
        print(f"insert {rows:,} trades in one batch   {ms(took)}  ({rows / took:,.0f} rows/s)")
        await repository.close()

        started = time.perf_counter()
        repository = await Repository.open(path)
        opened = time.perf_counter() - started
        loaded = await repository.load_active_trades()
        took = time.perf_counter() - started
        print(f"open (quick_check) + load {len(loaded):,} active  {ms(took)}  (open {ms(opened).strip()})")

        latencies = []
        trade = trades[0]
        for n in range(singles):
            trade.state = DefensiveState.WARNING_L1 if n % 2 else DefensiveState.HEALTHY
            trade.score = n / 10
            started = time.perf_counter()
            await repository.save_trade(trade)
            latencies.append(time.perf_counter() - started)
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"save_trade x{singles:,}: p50 {ms(cuts[49]).strip()}, p99 {ms(cuts[98]).strip()}, "
            f"max {ms(max(latencies)).strip()}"
        )

        _, idle = await max_lag_during(lambda: asyncio.sleep(0.5))
        print(f"5 ms ticker, idle loop: max lag           {ms(idle)}")

        fresh = [make_trade(n) for n in range(rows + 1, 2 * rows + 1)]
        took, lag = await max_lag_during(lambda: repository.save_trades(fresh))
        print(f"5 ms ticker, {rows:,} rows in one save_trades: max lag {ms(lag)}  (write {ms(took).strip()})")

        async def one_by_one() -> None:
            for trade in trades:
                await repository.save_trade(trade)

        took, lag = await max_lag_during(one_by_one)
        print(f"5 ms ticker, {rows:,} sequential save_trade: max lag {ms(lag)}  (write {ms(took).strip()})")
        print(f"database size: {await repository.size_bytes() / 1e6:.1f} MB for {2 * rows:,} trades")
        await repository.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--singles", type=int, default=2_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.singles))
