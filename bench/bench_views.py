"""GUI-thread cost of the window with 1,000 (or ``--trades`` 10,000) managed trades, and start-up to a painted
window with as many recovered trades. Runs the real engine on the 20-symbol simulator in this process, with the
real bridge, trades model and main window on the offscreen platform.

    .venv/bin/python bench/bench_views.py [--trades 1000] [--cycles 200] [--baseline /path/to/other/checkout]

With ``--baseline`` the same measurement runs first on the other checkout's ``app`` (in a child process, the
machine's load shared by both) and then on this one, and the ratios this/baseline are printed: figures on a
loaded machine only mean something next to a baseline taken in the same run.

(a) Per fast cycle (the simulated clock moves one second, every trade's price changes): the time the Qt side
    spends in the cycle's ``trade_updated`` and ``cycle`` events (bridge, models, every connected view), then
    the time to handle what they posted (repaint of the visible table); and the GUI thread's CPU time over both,
    which a loaded machine does not inflate (its p99 is the window's own, where the wall-time p99 also counts
    the moments another process had the core). Qt events are handled only where the benchmark asks, so each
    figure belongs to one cycle. Measured with the table in ticket order, sorted by profit (every price change
    then moves rows), filtered to one symbol, and sorted by score (every cycle compares all the scores).
(b) Start-up: ``Services.open`` + ``engine.start`` (recovery of the persisted trades) + window construction
    and load + the first paint of the trades table, timed to the table viewport's first paint event.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# account locks of its own: a desk (or another benchmark) running on this machine does not stop the measurement
os.environ.setdefault("DTMS_LOCK_DIR", tempfile.mkdtemp(prefix="dtms-bench-locks-"))
HERE = Path(__file__).resolve()
#: ``--tree PATH`` (set by ``--baseline`` for the child process): measure that checkout's app
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve() if "--tree" in sys.argv else HERE.parents[1]
sys.path.insert(0, str(TREE))

from PySide6.QtCore import QEvent, QObject, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.engine.events import EngineEvent, EventKind  # noqa: E402
from app.runtime import Services  # noqa: E402
from app.views.bridge import EngineBridge  # noqa: E402
from app.views.main_window import MainWindow  # noqa: E402
from app.views.trades_model import Column  # noqa: E402
from bench.bench_engine import fill, open_engine  # noqa: E402

LIVE_KINDS = {EventKind.TRADE_UPDATED, EventKind.CYCLE}


class TimedBridge(EngineBridge):
    """The bridge, timing the delivery of the live events (every slot connected to them runs inside)."""

    def __init__(self, engine: object) -> None:
        self.spent = 0.0
        self.spent_cpu = 0.0
        super().__init__(engine)

    def _deliver(self, event: EngineEvent) -> None:
        if event.kind not in LIVE_KINDS:
            super()._deliver(event)
            return
        started, cpu = time.perf_counter(), time.thread_time()
        super()._deliver(event)
        self.spent += time.perf_counter() - started
        self.spent_cpu += time.thread_time() - cpu


class FirstPaint(QObject):
    """Resolves ``painted`` at the first paint event of the watched widget."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.painted.done():
            self.painted.set_result(time.perf_counter())
        return False


def build_window(services: Services, bridge: EngineBridge, data_dir: Path) -> MainWindow:
    extra = {"gateway": services.gateway} if "gateway" in inspect.signature(MainWindow).parameters else {}
    return MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=data_dir / "dtms.toml",
        account=services.gateway.account_info,
        notify_interval_s=5.0,
        **extra,
    )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of the samples at or below it
    (p99 of 200 samples is the 198th smallest; of 30 it would be the largest, so take at least 200)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:>8.2f} {percentile(values, 0.99) * 1000:>8.2f} {max(values) * 1000:>8.2f}"
    )


async def per_cycle(
    app: QApplication, services: Services, window: MainWindow, bridge: TimedBridge, cycles: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Per cycle: wall time in the live events, wall time in what they posted, the engine's cycle, and the GUI
    thread's CPU time in both (what the window costs, without the time other processes of a loaded machine
    took the core: its p99 is the window's own)."""
    handled, posted, engine, cpu = [], [], [], []
    for _ in range(cycles):
        await services.gateway.control("advance", seconds=1.0)
        bridge.spent = bridge.spent_cpu = 0.0
        report = await services.engine.run_fast_cycle()
        handled.append(bridge.spent)
        started, cpu_started = time.perf_counter(), time.thread_time()
        app.processEvents()
        posted.append(time.perf_counter() - started)
        cpu.append(bridge.spent_cpu + time.thread_time() - cpu_started)
        engine.append(report.duration_s)
    if window.trades.live(window.trades.ticket_at(0)) is None:
        raise RuntimeError("the table received no prices")
    return handled, posted, engine, cpu


async def updates(app: QApplication, data_dir: Path, count: int, cycles: int) -> dict[str, list[float]]:
    services = await open_engine(data_dir)
    try:
        await services.engine.start()
        gc.collect()
        gc.freeze()  # as the program does once the engine is READY
        await services.gateway.control("configure_account", balance=1e9, leverage=500)
        await fill(services, count)
        bridge = TimedBridge(services.engine)
        window = build_window(services, bridge, data_dir)
        await window.load()
        window.show()
        app.processEvents()
        for _ in range(3):  # warm-up: first prices for every row
            await per_cycle(app, services, window, bridge, 1)
        samples: dict[str, list[float]] = {}
        print(
            f"(a) GUI thread per fast cycle, {window.trades.rowCount()} managed trades, {cycles} cycles "
            "(median / p99 / max, ms)"
        )
        print(
            f"    {'table order':<22} {'live events':>26} {'posted (paint)':>26} {'total':>26} {'GUI thread CPU':>26}"
        )
        for name, column, order, text in (
            ("by ticket", Column.TICKET, Qt.SortOrder.AscendingOrder, ""),
            ("by profit", Column.PROFIT, Qt.SortOrder.DescendingOrder, ""),
            ("by ticket, filtered", Column.TICKET, Qt.SortOrder.AscendingOrder, "EURUSD"),
            ("by score", Column.SCORE, Qt.SortOrder.AscendingOrder, ""),
        ):
            window.trades_view.sortByColumn(column, order)
            window.filter.setText(text)
            app.processEvents()
            handled, posted, engine, cpu = await per_cycle(app, services, window, bridge, cycles)
            total = [h + p for h, p in zip(handled, posted, strict=True)]
            samples[name] = total
            samples[f"{name} (cpu)"] = cpu
            print(f"    {name:<22} {ms(handled):>26} {ms(posted):>26} {ms(total):>26} {ms(cpu):>26}")
        print(
            f"    (engine fast cycle itself, for comparison: median {statistics.median(engine) * 1000:.1f} ms; "
            f"{len(services.engine.trades())} trades managed at the end)"
        )
        await window.close_tasks()
        bridge.detach()
        window.deleteLater()
        return samples
    finally:
        await services.close()


async def persist(data_dir: Path, count: int) -> None:
    services = await open_engine(data_dir)
    try:
        await services.engine.start()
        await services.gateway.control("configure_account", balance=1e9, leverage=500)
        await fill(services, count)
    finally:
        await services.close()


async def start_up(app: QApplication, data_dir: Path) -> None:
    started = time.perf_counter()
    services = await open_engine(data_dir)
    opened = time.perf_counter()
    try:
        await services.engine.start()
        ready = time.perf_counter()
        bridge = EngineBridge(services.engine)
        window = build_window(services, bridge, data_dir)
        await window.load()
        watcher = FirstPaint()
        window.trades_view.viewport().installEventFilter(watcher)
        window.show()
        built = time.perf_counter()
        while not watcher.painted.done():
            app.processEvents()
            await asyncio.sleep(0)
        painted = watcher.painted.result()
        rows = window.trades.rowCount()
        print(f"(b) start-up to a painted window with {rows} recovered trades: {(painted - started) * 1000:.0f} ms")
        print(
            f"    Services.open {(opened - started) * 1000:.0f} ms, engine.start (recovery) "
            f"{(ready - opened) * 1000:.0f} ms, window construction and load {(built - ready) * 1000:.0f} ms, "
            f"first paint {(painted - built) * 1000:.0f} ms"
        )
        await window.close_tasks()
        bridge.detach()
        window.deleteLater()
    finally:
        await services.close()


async def main(count: int, cycles: int, samples_out: Path | None, skip_start_up: bool) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"measuring {TREE}")
    with tempfile.TemporaryDirectory() as tmp:
        samples = await updates(app, Path(tmp), count, cycles)
    if samples_out is not None:
        samples_out.write_text(json.dumps(samples), encoding="utf-8")
    if not skip_start_up:
        with tempfile.TemporaryDirectory() as tmp:
            await persist(Path(tmp), count)
            await start_up(app, Path(tmp))


def compare(baseline: Path, count: int, cycles: int, rounds: int) -> None:
    """Run the per-cycle measurement on ``baseline`` and on this checkout in alternating rounds (so a change of
    the machine's load weighs on both), ``cycles`` split over the rounds, and print the medians and p99s of
    all samples side by side with their ratios."""
    results: dict[str, dict[str, list[float]]] = {"baseline": {}, "this": {}}
    per_round = math.ceil(cycles / rounds)
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(rounds):
            for label, tree in (("baseline", baseline), ("this", HERE.parents[1])):
                out = Path(tmp) / f"{label}-{index}.json"
                env = {**os.environ, "PYTHONPATH": str(tree)}
                subprocess.run(
                    [
                        sys.executable,
                        str(HERE),
                        "--tree",
                        str(tree),
                        "--trades",
                        str(count),
                        "--cycles",
                        str(per_round),
                        "--samples",
                        str(out),
                        "--no-start-up",
                    ],
                    check=True,
                    env=env,
                )
                for name, values in json.loads(out.read_text(encoding="utf-8")).items():
                    results[label].setdefault(name, []).extend(values)
    print(
        f"\nGUI thread per fast cycle (live events + posted paint; wall time, and the thread's CPU time), {count} "
        f"trades, {per_round * rounds} cycles each over {rounds} alternating rounds, same run:"
    )
    print(f"    {'table order':<28} {'baseline median/p99':>22} {'this median/p99':>22} {'ratio median/p99':>20}")
    print(
        f"    (samples per order: baseline {len(next(iter(results['baseline'].values())))}, "
        f"this {len(next(iter(results['this'].values())))}; goal: median <= 6 ms at 1,000 trades, <= 10 ms at 10,000)"
    )
    for name, base in results["baseline"].items():
        mine = results["this"][name]
        b_med, b_p99 = statistics.median(base), percentile(base, 0.99)
        m_med, m_p99 = statistics.median(mine), percentile(mine, 0.99)
        print(
            f"    {name:<28} {b_med * 1000:>10.2f} {b_p99 * 1000:>10.2f} {m_med * 1000:>10.2f} "
            f"{m_p99 * 1000:>10.2f} {m_med / b_med:>9.2f} {m_p99 / b_p99:>9.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=1_000)
    parser.add_argument("--cycles", type=int, default=200, help="fast cycles per table order (p99 needs >= 200)")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds with --baseline")
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-start-up", action="store_true", help="skip (b)")
    arguments = parser.parse_args()
    if arguments.baseline is not None:
        compare(arguments.baseline.resolve(), arguments.trades, arguments.cycles, arguments.rounds)
    else:
        asyncio.run(main(arguments.trades, arguments.cycles, arguments.samples, arguments.no_start_up))
