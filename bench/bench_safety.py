"""Trade safety's costs and reaction times:

- the online backup (SQLite's backup API on the database thread) and the integrity check (``PRAGMA
  quick_check``) at 1,000 and 10,000 stored trades: milliseconds, and the event loop's worst lag meanwhile
  (a 5 ms ticker on the loop, as in bench_store.py), against the same ticker's lag with the database idle;
- a registration's commit (row and event in one transaction plus the side-journal line) against the bare
  insert, in the same run;
- time from damage to degraded: the file damaged (WAL checkpointed, middle third overwritten), then the
  next integrity check; plus the bound that follows from ``database.check_interval_s``;
- time to detect a hang: a worker-process terminal blocked 5 s holding its GIL; seconds from the call's
  start to ``terminal_stall_s`` being set (threshold 2 s).

Run: ``.venv/bin/python bench/bench_safety.py [--rounds 3]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bench_store import make_trade, max_lag_during  # the same trade rows and loop-lag ticker

from app.config import AppSettings
from app.runtime import RuntimeOptions, Services
from app.store.repository import Repository
from app.terminal.spec import TerminalKind


async def timed(job: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Milliseconds ``job`` took and the loop's worst lateness meanwhile, in milliseconds."""
    took, lag = await max_lag_during(job)
    return took * 1000, lag * 1000


async def database_costs(trades: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = await Repository.open(Path(folder) / "dtms.sqlite3")
        try:
            template = make_trade(1)
            await repo.save_trades([replace(template, ticket=n) for n in range(1, trades + 1)])
            idle = (await timed(lambda: asyncio.sleep(0.3)))[1]
            backups, checks = [], []
            for _ in range(rounds):
                backups.append(await timed(lambda: repo.backup(3)))
                checks.append(await timed(repo.check))
            size = (Path(folder) / "dtms.sqlite3").stat().st_size + Path(f"{folder}/dtms.sqlite3-wal").stat().st_size
            b_ms, b_lag = statistics.median(x[0] for x in backups), max(x[1] for x in backups)
            c_ms, c_lag = statistics.median(x[0] for x in checks), max(x[1] for x in checks)
            print(
                f"{trades:>6} trades ({size / 1e6:.1f} MB): backup {b_ms:7.1f} ms (loop lag max {b_lag:5.1f} ms), "
                f"quick_check {c_ms:7.1f} ms (lag max {c_lag:5.1f} ms); idle loop lag max {idle:4.1f} ms"
            )
        finally:
            await repo.close()


async def registration_cost(count: int) -> None:
    """A registration's commit (row and event in one transaction, then the side journal line) against the plain
    insert it replaced, in the same run."""
    with tempfile.TemporaryDirectory() as folder:
        repo = await Repository.open(Path(folder) / "dtms.sqlite3")
        try:
            plains, safes = [], []
            for block in range(0, count, 100):  # interleaved blocks: the machine's noise falls on both alike
                started = time.perf_counter()
                for n in range(block + 1, block + 101):
                    await repo.insert_trade_if_absent(replace(make_trade(1), ticket=n))
                plains.append((time.perf_counter() - started) / 100)
                started = time.perf_counter()
                for n in range(count + block + 1, count + block + 101):
                    await repo.register_trade(replace(make_trade(1), ticket=n), "trade_registered", {"ticket": n}, 1.0)
                safes.append((time.perf_counter() - started) / 100)
            plain, safe = statistics.median(plains), statistics.median(safes)
            print(
                f"registration commit: {safe * 1e6:.0f} us (row + event + side journal) against {plain * 1e6:.0f} us "
                f"(row alone): x{safe / plain:.2f}, over {count} registrations"
            )
        finally:
            await repo.close()


async def damage_to_degraded(trades: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        services = await Services.open(
            RuntimeOptions(
                data_dir=data, settings=AppSettings(), terminal=TerminalKind.SIM, sim_speed=0.0, in_process=True
            )
        )
        try:
            await services.repository.save_trades(
                [replace(make_trade(1), ticket=n, active=False) for n in range(1, trades + 1)]
            )
            database = data / "dtms.sqlite3"
            connection = sqlite3.connect(database)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            size = database.stat().st_size
            with open(database, "r+b") as file:  # noqa: ASYNC230 (the damage itself, before any timing)
                file.seek(size // 3)
                file.write(os.urandom(size // 3))
            damaged = time.perf_counter()
            problem = await services.engine.check_database()
            seconds = time.perf_counter() - damaged
            interval = services.settings.engine.database.check_interval_s
            print(
                f"damage to degraded ({trades} trades): {seconds * 1000:.1f} ms from the check's start "
                f"({'found' if problem else 'NOT found'}); at most {interval:.0f} s + that with the periodic check, "
                "at once when a write or read meets the damage"
            )
        finally:
            await services.close()


async def hang_detection(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        services = await Services.open(
            RuntimeOptions(data_dir=Path(folder), settings=AppSettings(), terminal=TerminalKind.SIM, sim_speed=0.0),
            autorun=False,
        )
        try:
            assert await services.engine.start()
            figures = []
            for _ in range(rounds):
                await services.gateway.control("inject_fault", kind="block", seconds=5.0)
                started = time.perf_counter()
                call = asyncio.ensure_future(services.gateway.positions())
                while services.engine.health().terminal_stall_s is None:
                    await asyncio.sleep(0.01)
                figures.append(time.perf_counter() - started)
                await call
                while services.engine.health().terminal_stall_s is not None:
                    await asyncio.sleep(0.01)
            threshold = services.settings.engine.connection.stall_threshold_s
            print(
                f"hang detection: {statistics.median(figures):.2f} s median, {max(figures):.2f} s max from the "
                f"call's start (threshold {threshold:g} s, watchdog 10 s; {rounds} 5 s blocks)"
            )
        finally:
            await services.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for trades in (1_000, 10_000):
        await database_costs(trades, args.rounds)
    await registration_cost(1_000)
    for trades in (1_000, 10_000):
        await damage_to_degraded(trades)
    await hang_detection(args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
