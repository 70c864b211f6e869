"""GUI-thread cost of the window with 1,000 managed trades, and start-up to a painted window with 1,000
recovered trades. Runs the real engine on the 20-symbol simulator in this process, with the real bridge,
trades model and main window on the offscreen platform.

    .venv/bin/python bench/bench_views.py [--trades 1000] [--cycles 30]

(a) Per fast cycle (the simulated clock moves one second, every trade's price changes): the time the Qt side
    spends in the cycle's ``trade_updated`` and ``cycle`` events (bridge, models, proxies, every connected
    view), then the time to handle what they posted (repaint of the visible table). Qt events are handled
    only where the benchmark asks, so each figure belongs to one cycle. Measured with the table in ticket
    order and sorted by profit (every price change then moves rows).
(b) Start-up: ``Services.open`` + ``engine.start`` (recovery of the persisted trades) + window construction
    and load + the first paint of the trades table, timed to the table viewport's first paint event.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
        super().__init__(engine)

    def _deliver(self, event: EngineEvent) -> None:
        if event.kind not in LIVE_KINDS:
            super()._deliver(event)
            return
        started = time.perf_counter()
        super()._deliver(event)
        self.spent += time.perf_counter() - started


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
    return MainWindow(bridge, quit_program=lambda: None, simulated=True, terminal="simulator",
                      database=data_dir / "dtms.sqlite3", settings=services.settings,
                      config_path=data_dir / "dtms.toml", account=services.gateway.account_info,
                      notify_interval_s=5.0)


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{statistics.median(values) * 1000:>8.2f} {p99 * 1000:>8.2f} {max(values) * 1000:>8.2f}"


async def per_cycle(app: QApplication, services: Services, window: MainWindow, bridge: TimedBridge,
                    cycles: int) -> tuple[list[float], list[float], list[float]]:
    handled, posted, engine = [], [], []
    for _ in range(cycles):
        await services.gateway.control("advance", seconds=1.0)
        bridge.spent = 0.0
        report = await services.engine.run_fast_cycle()
        handled.append(bridge.spent)
        started = time.perf_counter()
        app.processEvents()
        posted.append(time.perf_counter() - started)
        engine.append(report.duration_s)
    if window.trades.live(window.trades.ticket_at(0)) is None:
        raise RuntimeError("the table received no prices")
    return handled, posted, engine


async def updates(app: QApplication, data_dir: Path, count: int, cycles: int) -> None:
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
        print(f"(a) GUI thread per fast cycle, {window.trades.rowCount()} managed trades, {cycles} cycles "
              "(median / p99 / max, ms)")
        print(f"    {'table order':<22} {'live events':>26} {'posted (paint)':>26} {'total':>26}")
        for name, column, order, text in (("by ticket", Column.TICKET, Qt.SortOrder.AscendingOrder, ""),
                                          ("by profit", Column.PROFIT, Qt.SortOrder.DescendingOrder, ""),
                                          ("by ticket, filtered", Column.TICKET, Qt.SortOrder.AscendingOrder,
                                           "EURUSD")):
            window.trades_view.sortByColumn(column, order)
            window.filter.setText(text)
            app.processEvents()
            handled, posted, engine = await per_cycle(app, services, window, bridge, cycles)
            total = [h + p for h, p in zip(handled, posted, strict=True)]
            print(f"    {name:<22} {ms(handled):>26} {ms(posted):>26} {ms(total):>26}")
        print(f"    (engine fast cycle itself, for comparison: median {statistics.median(engine) * 1000:.1f} ms; "
              f"{window.trades.rowCount()} trades managed at the end)")
        await window.close_tasks()
        bridge.detach()
        window.deleteLater()
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
        print(f"    Services.open {(opened - started) * 1000:.0f} ms, engine.start (recovery) "
              f"{(ready - opened) * 1000:.0f} ms, window construction and load {(built - ready) * 1000:.0f} ms, "
              f"first paint {(painted - built) * 1000:.0f} ms")
        await window.close_tasks()
        bridge.detach()
        window.deleteLater()
    finally:
        await services.close()


async def main(count: int, cycles: int) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        await updates(app, Path(tmp), count, cycles)
    with tempfile.TemporaryDirectory() as tmp:
        await persist(Path(tmp), count)
        await start_up(app, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=1_000)
    parser.add_argument("--cycles", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.trades, arguments.cycles))
