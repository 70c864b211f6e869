"""A long run in a few minutes: the real program's services (terminal in its worker process, engine on its
own monitoring loop) at a high simulated speed with 100 trades kept open and faults injected, sampling this
(the main) process every few seconds.

Prints RSS, open descriptors, database size (main file, its WAL and the archives) and bytes written
(``/proc/self/io`` write_bytes) at the start and the end, their slopes per wall hour and per simulated hour
(least squares over the samples after the warm-up), and the end-to-start ratios of the same run.

Bytes written are also split by where they go (Linux): the database thread's jobs by kind, read from
``/proc/thread-self/io`` around each job, and everything else (the log, other threads). Decisions come with
simulated time (prices move at ``--sim-speed``), so their rate at 1x is per simulated hour; the figures'
flush, the integrity checks and backups come with wall time, so their rate at 1x is per wall hour. The sum of
both is the rate at 1x; with ``--fault-every 0`` no faults are injected (still, trades without a stop loss
are stopped out and replaced: that churn is decisions too).

    .venv/bin/python bench/bench_longrun.py [--seconds 180] [--sim-speed 60] [--trades 100]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import logging
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import AppSettings
from app.engine.registry import Registration
from app.engine.watches import BACKUP_JOURNAL_SHARE, SMALL_FILE_BYTES
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD")
FAULTS = ("ipc_timeout", "retcode", "disconnect", "restart", "block")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    wall: float  # seconds since the start of the measured part
    sim: float  # simulated seconds since then
    rss_kb: int
    fds: int
    db_bytes: int
    written: int
    trades: int
    sqlite_bytes: int  # SQLite's own allocations (page caches, statements), -1 where it cannot be read
    py_blocks: int  # Python objects' memory blocks (sys.getallocatedblocks)
    gc_objects: int


#: the database thread's jobs by what they write: decisions (and ownership) come with simulated time
DECISION_JOBS = frozenset(
    {
        "_commit_records",
        "_commit_batch",
        "_register_on_thread",
        "_save_with_event_on_thread",
        "_save_trades_with_events",
        "_insert_with_events",
        "_save_with_records",
        "append_event",
    }
)
WALL_JOBS = {"_rewrite": "figures flush", "_backup_on_thread": "backups", "_check_on_thread": "integrity checks"}
#: a job that wrote more than this (but a backup) ran SQLite's automatic checkpoint: a commit of its own writes at
#: most a hundred trade pages; the checkpoint copies the WAL's pages of every kind of write into the file
CHECKPOINT_BYTES = 256 * 1024
CHECKPOINTS = "checkpoints"


class WriteMeter:
    """Bytes the database thread writes, by job (``/proc/thread-self/io`` around each job it runs)."""

    def __init__(self) -> None:
        self.bytes: dict[str, int] = {}
        self.jobs: dict[str, int] = {}

    @staticmethod
    def _written() -> int:
        try:
            return _proc_value("/proc/thread-self/io", "write_bytes")
        except OSError:
            return 0

    def attach(self, repository: Any) -> None:
        run = repository._run

        async def measured(work: Any, *args: Any, **options: Any) -> Any:
            # a job is named by its function, or by the method that handed over a lambda
            name = getattr(work, "__qualname__", "?").split(".<locals>")[0].rsplit(".", 1)[-1]

            def job(*inner: Any) -> Any:
                before = self._written()
                try:
                    return work(*inner)
                finally:
                    written = self._written() - before
                    key = CHECKPOINTS if written > CHECKPOINT_BYTES and name != "_backup_on_thread" else name
                    self.bytes[key] = self.bytes.get(key, 0) + written
                    self.jobs[key] = self.jobs.get(key, 0) + 1

            return await run(job, *args, **options)

        repository._run = measured

    def reset(self) -> None:
        self.bytes.clear()
        self.jobs.clear()

    def decisions(self) -> tuple[int, int]:
        """Bytes and jobs of decisions and ownership."""
        return (
            sum(v for k, v in self.bytes.items() if k in DECISION_JOBS),
            sum(v for k, v in self.jobs.items() if k in DECISION_JOBS),
        )


def _proc_value(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    return 0


def _sqlite_memory() -> Callable[[], int]:
    """SQLite's ``sqlite3_memory_used`` of the library the sqlite3 module uses (Linux), else -1."""
    try:
        library = ctypes.CDLL("libsqlite3.so.0")
        library.sqlite3_memory_used.restype = ctypes.c_int64
    except (OSError, AttributeError):
        return lambda: -1
    return lambda: int(library.sqlite3_memory_used())


SQLITE_MEMORY = _sqlite_memory()


def _db_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("dtms*.sqlite3*") if p.is_file())


def _data_bytes(database: Path) -> int:
    """What the main file's data weighs as the desk sees it (its WAL included, free pages not)."""
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (pages,), (free,), (size,) = (
            connection.execute(f"PRAGMA {name}").fetchone() for name in ("page_count", "freelist_count", "page_size")
        )
    finally:
        connection.close()
    return (pages - free) * size


def _report_retained(data0: int, data1: int, side0: int, side1: int, samples: list[Sample], services: Services) -> None:
    """Where this run's growth of the main file leads once retention holds it level, and what the periodic whole
    copy (the backup) then writes: taken when the file is small or the side journal (the changes since the last
    copy) weighs a sixteenth of it, at least every ``backup_max_age_s``, looked at every ``backup_interval_s``."""
    sim_h = max(samples[-1].sim - samples[0].sim, 1.0) / 3600.0
    growth, journal = (data1 - data0) / sim_h, max(side1 - side0, 0) / sim_h
    storage = services.engine.settings.storage
    database = AppSettings().engine.database  # the desk's defaults, whatever this run used
    held = data1 + growth * max(storage.retention_days * 24.0 - samples[-1].sim / 3600.0, 0.0)
    every_h, longest_h = database.backup_interval_s / 3600.0, database.backup_max_age_s / 3600.0
    wanted_h = held / BACKUP_JOURNAL_SHARE / journal if journal > 0 else longest_h
    copy_h = min(max(math.ceil(wanted_h / every_h) * every_h, every_h), longest_h)
    if held <= SMALL_FILE_BYTES:
        copy_h = every_h
    print(
        f"main file's data {data0 / 1e6:.2f} -> {data1 / 1e6:.2f} MB, {growth / 1e6:.3f} MB per simulated hour "
        f"({len(services.engine.trades())} trades open); side journal {journal / 1e3:.1f} kB per simulated hour"
    )
    print(
        f"  kept {storage.retention_days:g} days, the file would hold about {held / 1e6:.0f} MB; a whole copy every "
        f"{copy_h:g} h (every {every_h:g} h it would be {held / every_h / 1e6:.2f} MB/h) = "
        f"{held / copy_h / 1e6:.3f} MB/h at 1x"
    )


def _slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


async def _stops(services: Services, symbol: str, side: str, stop_pct: float) -> dict[str, float]:
    """A stop loss ``stop_pct`` % of the price away on the risk side and a take profit at twice that, as a bot
    that sizes its trades by risk would place them (none with ``stop_pct`` 0)."""
    if stop_pct <= 0:
        return {}
    tick = await services.gateway.tick(symbol)
    digits = int((await services.gateway.symbol_info(symbol)).digits)
    price = float(tick.ask) if side == "BUY" else float(tick.bid)
    risk = price * stop_pct / 100.0 * (1 if side == "BUY" else -1)
    return {"sl": round(price - risk, digits), "tp": round(price + 2 * risk, digits)}


async def _keep_trades(services: Services, count: int, rng: random.Random, stop_pct: float = 0.0) -> int:
    """Open and register positions until ``count`` trades are managed; returns how many were opened."""
    opened = 0
    engine = services.engine
    if not engine.ready:
        return 0
    while len(engine.trades()) < count:
        symbol = rng.choice(SYMBOLS)
        side = rng.choice(("BUY", "SELL"))
        try:
            stops = await _stops(services, symbol, side, stop_pct)
        except Exception as error:  # the engine may be reconnecting after a fault: try again later
            logging.getLogger("bench").info("no price for the stops: %s", error)
            return opened
        result = await services.gateway.control(
            "open_position", symbol=symbol, type=side, volume=0.01 if rng.random() < 0.5 else 0.1, **stops
        )
        if result.get("retcode") != 10009:
            return opened
        try:
            await engine.register(Registration(ticket=int(result["order"])))
        except Exception as error:  # the engine may be reconnecting after a fault: try again later
            logging.getLogger("bench").info("register deferred: %s", error)
            return opened
        opened += 1
    return opened


async def _sample(services: Services, data_dir: Path, wall0: float, sim0: float) -> Sample:
    sim_now = float(await services.gateway.control("now"))
    return Sample(
        wall=time.monotonic() - wall0,
        sim=sim_now - sim0,
        rss_kb=_proc_value("/proc/self/status", "VmRSS"),
        fds=len(os.listdir("/proc/self/fd")),
        db_bytes=_db_bytes(data_dir),
        written=_proc_value("/proc/self/io", "write_bytes"),
        trades=len(services.engine.trades()),
        sqlite_bytes=SQLITE_MEMORY(),
        py_blocks=sys.getallocatedblocks(),
        gc_objects=len(gc.get_objects()),
    )


async def run(
    seconds: float,
    speed: float,
    trades: int,
    warmup: float,
    every: float,
    fault_every: float,
    persist: float | None,
    backup_every: float | None = None,
    stop_pct: float = 0.0,
) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        # the simulated account is the same in every run: a desk running beside must not refuse this one
        os.environ.setdefault("DTMS_LOCK_DIR", str(data_dir / "locks"))
        logging.basicConfig(filename=data_dir / "dtms-desk.log", level=logging.INFO)
        settings = AppSettings()
        if persist is not None:
            storage = replace(settings.engine.storage, persist_interval_s=persist)
            settings = replace(settings, engine=replace(settings.engine, storage=storage))
        if backup_every is not None:
            database = replace(settings.engine.database, backup_interval_s=backup_every)
            settings = replace(settings, engine=replace(settings.engine, database=database))
        options = RuntimeOptions(
            data_dir=data_dir,
            settings=settings,
            terminal=TerminalKind.SIM,
            sim_speed=speed,
            sim_start=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        )
        services = await Services.open(options)
        meter = WriteMeter()
        meter.attach(services.repository)
        try:
            if not await services.engine.start():
                raise SystemExit(f"engine did not start: {services.engine.lifecycle.reason}")
            await services.gateway.control("configure_account", balance=1e7, leverage=500)
            await _keep_trades(services, trades, rng, stop_pct)
            started = time.monotonic()
            while time.monotonic() - started < warmup:
                await asyncio.sleep(1.0)
                await _keep_trades(services, trades, rng, stop_pct)
            gc.collect()
            data0 = _data_bytes(data_dir / "dtms.sqlite3")  # read outside the measured window: it writes -shm
            side0 = services.repository.side.size()
            wall0, sim0 = time.monotonic(), float(await services.gateway.control("now"))
            samples = [await _sample(services, data_dir, wall0, sim0)]
            meter.reset()
            log = data_dir / "dtms-desk.log"
            log0 = log.stat().st_size
            faults, opened, next_fault = 0, 0, fault_every
            while samples[-1].wall < seconds:
                await asyncio.sleep(every)
                if fault_every > 0 and samples[-1].wall >= next_fault and services.engine.ready:
                    next_fault += fault_every
                    kind = FAULTS[faults % len(FAULTS)]
                    params: dict[str, float] = {"retcode": 10004, "count": 2} if kind == "retcode" else {}
                    params |= {"count": 3} if kind == "ipc_timeout" else {}
                    params |= {"seconds": 0.5} if kind == "block" else {}
                    try:
                        await services.gateway.control("inject_fault", kind=kind, **params)
                        faults += 1
                    except Exception as error:
                        print(f"fault {kind} not injected: {error}")
                opened += await _keep_trades(services, trades, rng, stop_pct)
                samples.append(await _sample(services, data_dir, wall0, sim0))
            _report(samples, speed, faults, opened, services)
            side1 = services.repository.side.size()
            _report_retained(data0, _data_bytes(data_dir / "dtms.sqlite3"), side0, side1, samples, services)
            problem = services.engine._recorder.problem
            if problem:
                # every figure after this point measured the side journal, not the database
                print(f"THE DATABASE WAS DEGRADED DURING THE RUN ({problem}): its figures do not hold")
            flushes = getattr(services.engine._recorder, "flushes", "n/a")
            print(
                f"log file {log.stat().st_size / 1e6:.2f} MB; trade flushes {flushes}; "
                f"persist interval {services.engine.settings.storage.persist_interval_s:g} s; backup interval "
                f"{services.engine.settings.database.backup_interval_s:g} s"
            )
            _report_writes(samples, meter, log.stat().st_size - log0, (data_dir / "dtms.sqlite3").stat().st_size, speed)
            _report_actions(data_dir / "dtms.sqlite3", sim0, sim0 + samples[-1].sim)
            _report_log(log, log0, samples[-1].wall / 3600.0)
            if problem:
                raise SystemExit(1)
        finally:
            await services.close()


def _report_log(log: Path, start: int, wall_hours: float) -> None:
    """Log lines of the measured part per wall hour, by logger: each line written a few seconds after the last
    dirties a page of the file again (4 KiB written, whatever the line's length)."""
    with open(log, encoding="utf-8", errors="replace") as file:
        file.seek(start)
        names = Counter(line.split(":", 2)[1] for line in file if line.count(":") >= 2)
    top = ", ".join(f"{name} {count / wall_hours:,.0f}" for name, count in names.most_common(6))
    print(f"log lines per wall hour: {sum(names.values()) / wall_hours:,.0f} ({top})")


def _report(samples: list[Sample], speed: float, faults: int, opened: int, services: Services) -> None:
    first, last = samples[0], samples[-1]
    walls = [s.wall for s in samples]
    sims = [s.sim for s in samples]
    hours = last.wall / 3600.0
    sim_hours = last.sim / 3600.0
    print(
        f"long run: {last.wall:.0f} s wall, {sim_hours:.1f} simulated hours at {speed:g}x, {faults} faults, "
        f"{opened} trades opened after the start, {last.trades} managed at the end, "
        f"{services.engine.health().cycles} fast cycles"
    )
    print(f"{'figure':<22}{'start':>14}{'end':>14}{'end/start':>11}{'slope /wall h':>16}{'slope /sim h':>15}")
    rows = (
        ("RSS MB", [s.rss_kb / 1024 for s in samples]),
        ("descriptors", [float(s.fds) for s in samples]),
        ("database MB", [s.db_bytes / 1e6 for s in samples]),
        ("written MB", [(s.written - first.written) / 1e6 for s in samples]),
        ("SQLite memory MB", [s.sqlite_bytes / 1e6 for s in samples]),
        ("Python blocks k", [s.py_blocks / 1e3 for s in samples]),
        ("gc objects k", [s.gc_objects / 1e3 for s in samples]),
    )
    for name, values in rows:
        ratio = values[-1] / values[0] if values[0] else float("nan")
        per_wall = _slope(walls, values) * 3600
        per_sim = _slope(sims, values) * 3600
        print(f"{name:<22}{values[0]:>14.2f}{values[-1]:>14.2f}{ratio:>11.3f}{per_wall:>16.3f}{per_sim:>15.4f}")
    written = (last.written - first.written) / 1e6
    print(
        f"bytes written: {written:.2f} MB in {hours * 60:.1f} wall minutes = {written / hours:.2f} MB per wall hour "
        f"at {speed:g}x; {written / sim_hours if sim_hours else 0:.3f} MB per simulated hour "
        f"(the rate at 1x, where one wall hour is one simulated hour)"
    )
    half = len(samples) // 2
    first_half = _slope(walls[: half + 1], [s.rss_kb / 1024 for s in samples[: half + 1]]) * 3600
    second_half = _slope(walls[half:], [s.rss_kb / 1024 for s in samples[half:]]) * 3600
    print(
        f"RSS slope first half {first_half:.2f} MB/wall h, second half {second_half:.2f} MB/wall h "
        f"(ratio {second_half / first_half if first_half else float('nan'):.2f})"
    )
    _report_quarters(samples, walls, sims)


def _report_quarters(samples: list[Sample], walls: list[float], sims: list[float]) -> None:
    """Each quarter's slope of what could grow: growth that stops shows as slopes falling toward zero."""
    quarter = (len(samples) - 1) / 4
    if quarter < 2:
        return
    cuts = [round(i * quarter) for i in range(5)]
    for name, values in (
        ("RSS MB", [s.rss_kb / 1024 for s in samples]),
        ("Python blocks k", [s.py_blocks / 1e3 for s in samples]),
        ("gc objects k", [s.gc_objects / 1e3 for s in samples]),
    ):
        slopes = [_slope(sims[a : b + 1], values[a : b + 1]) * 3600 for a, b in zip(cuts, cuts[1:], strict=False)]
        print(f"{name} per simulated hour, quarter by quarter: {', '.join(f'{v:+.3f}' for v in slopes)}")


def _report_actions(database: Path, start: float, end: float) -> None:
    """The journal by kind and outcome, and the state changes, per simulated hour of the measured part (server
    times ``start`` to ``end``; the warm-up left out), and the state changes quarter by quarter."""
    sim_hours = max(end - start, 1.0) / 3600.0
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT kind, outcome, COUNT(*) FROM actions WHERE at >= ? AND at < ? GROUP BY kind, outcome "
            "ORDER BY COUNT(*) DESC",
            (start, end),
        ).fetchall()
        changes = [
            at for (at,) in connection.execute("SELECT at FROM transitions WHERE at >= ? AND at < ?", (start, end))
        ]
        before = connection.execute("SELECT COUNT(*) FROM transitions WHERE at < ?", (start,)).fetchone()[0]
    finally:
        connection.close()
    parts = ", ".join(f"{kind} {outcome} {count / sim_hours:.0f}" for kind, outcome, count in rows)
    print(f"journal per simulated hour (warm-up left out): {parts}; state changes {len(changes) / sim_hours:.0f}")
    quarter = (end - start) / 4
    counts = [sum(1 for at in changes if start + i * quarter <= at < start + (i + 1) * quarter) for i in range(4)]
    print(
        f"state changes per simulated hour, quarter by quarter: "
        f"{', '.join(f'{count / (quarter / 3600.0):.0f}' for count in counts)} ({before} in the warm-up)"
    )


def _report_writes(samples: list[Sample], meter: WriteMeter, log_bytes: int, file_bytes: int, speed: float) -> None:
    first, last = samples[0], samples[-1]
    wall_h, sim_h = last.wall / 3600.0, max(last.sim / 3600.0, 1e-9)
    total = last.written - first.written
    decided, decisions = meter.decisions()
    by_wall = {label: meter.bytes.get(job, 0) for job, label in WALL_JOBS.items()}
    checkpoints = meter.bytes.get(CHECKPOINTS, 0)
    other_db = sum(
        v for k, v in meter.bytes.items() if k not in DECISION_JOBS and k not in WALL_JOBS and k != CHECKPOINTS
    )
    elsewhere = total - sum(meter.bytes.values())
    print("bytes written by kind (MB in the run; rate at 1x):")
    print(
        f"  decisions and ownership  {decided / 1e6:8.3f}  {decided / sim_h / 1e6:7.3f} MB/h (per simulated hour; "
        f"{decisions} commits, {decided / decisions if decisions else 0:,.0f} B each)"
    )
    for job in sorted(DECISION_JOBS, key=lambda j: -meter.bytes.get(j, 0)):
        if meter.jobs.get(job):
            count, written = meter.jobs[job], meter.bytes.get(job, 0)
            print(
                f"    {job:<26} {count / sim_h:7.1f} commits/h x {written / count:7,.0f} B = "
                f"{written / sim_h / 1e6:6.3f} MB/h"
            )
    print(
        f"  checkpoints              {checkpoints / 1e6:8.3f}  {checkpoints / sim_h / 1e6:7.3f} MB/h (per simulated "
        f"hour: the WAL fills with decisions; {meter.jobs.get(CHECKPOINTS, 0)} commits that ran one)"
    )
    for label, value in by_wall.items():
        jobs = meter.jobs.get(next(j for j, lab in WALL_JOBS.items() if lab == label), 0)
        print(f"  {label:<24} {value / 1e6:8.3f}  {value / wall_h / 1e6:7.3f} MB/h (per wall hour; {jobs} runs)")
    print(f"  other database jobs      {other_db / 1e6:8.3f}  {other_db / wall_h / 1e6:7.3f} MB/h (per wall hour)")
    print(
        f"  outside the database     {elsewhere / 1e6:8.3f}  {elsewhere / sim_h / 1e6:7.3f} MB/h (per simulated "
        f"hour; the log grew {log_bytes / 1e6:.3f} MB)"
    )
    backups = meter.jobs.get("_backup_on_thread", 0)
    copy = meter.bytes.get("_backup_on_thread", 0) / backups if backups else float(file_bytes)
    interval = AppSettings().engine.database.backup_interval_s  # the desk's, whatever this run used
    amortised = copy * 3600.0 / interval
    steady = sum(by_wall.values()) - meter.bytes.get("_backup_on_thread", 0) + other_db
    print(
        f"  backups at 1x: {copy / 1e6:.2f} MB a copy ({'measured' if backups else 'the file size'}) every "
        f"{interval / 3600:g} h (the default) = {amortised / 1e6:.3f} MB/h"
    )
    without = steady / wall_h + amortised + max(elsewhere, 0) / sim_h
    decided += checkpoints
    print(
        f"rate at 1x{' scaled from this run' if speed > 1 else ''}: {(without + decided / sim_h) / 1e6:.3f} MB/h with "
        f"this run's decisions and their checkpoints ({decisions / sim_h:.0f} commits per simulated hour), "
        f"{without / 1e6:.3f} MB/h without them"
    )
    if speed > 1:
        # The system counts a page of a file written when it turns dirty; one written again before it is flushed
        # (about 30 s later) counts once. At a high speed a commit mostly lands on pages its neighbours left dirty
        # (the WAL's last page, the WAL index); at 1x, a commit every 20-60 s pays for all of them.
        print(
            f"  scaled, this is a floor: at {speed:g}x neighbouring commits share dirty pages that a commit at 1x "
            "pays for alone; measure with --sim-speed 1 (docs/storage.md)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180.0, help="measured wall seconds (after the warm-up)")
    parser.add_argument("--sim-speed", type=float, default=60.0)
    parser.add_argument("--trades", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--fault-every", type=float, default=20.0, help="wall seconds between injected faults (0: none)"
    )
    parser.add_argument("--persist-interval", type=float, default=None, help="storage.persist_interval_s")
    parser.add_argument("--backup-interval", type=float, default=None, help="database.backup_interval_s")
    parser.add_argument(
        "--stop-pct",
        type=float,
        default=0.0,
        help="open each trade with a stop loss this %% of the price away and a take profit at twice that, as "
        "bots do (0: none)",
    )
    args = parser.parse_args()
    asyncio.run(
        run(
            args.seconds,
            args.sim_speed,
            args.trades,
            args.warmup,
            args.every,
            args.fault_every,
            args.persist_interval,
            args.backup_interval,
            args.stop_pct,
        )
    )
