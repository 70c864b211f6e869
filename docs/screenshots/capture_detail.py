"""Screenshots of the trade detail on the simulator, driven step by step on a frozen simulated clock:
``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/capture_detail.py [--dark]``
(``--dark``: a dark Fusion palette, written to ``dark/``).

Six trades run in the live simulated market (seed 1) until one has had its breakeven, its partial take and a
defensive transition decided by the deep check. The window (1280x800) is captured with the detail pane on
the chart, on the score tab, with a notification, and with the one-click confirmation open.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication

from app.config import AppSettings
from app.engine.model import DefensiveState
from app.engine.registry import Registration
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from app.views.program import STYLE_SHEET
from app.views.trade_actions import confirm_box, confirmation_text

OUT = Path(__file__).resolve().parent
START = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


async def no_sleep(_: float) -> None:
    return None


async def open_trade(services: Services, symbol: str, side: str, volume: float, r: float) -> int:
    tick = await services.gateway.tick(symbol)
    price = float(tick.ask if side == "BUY" else tick.bid)
    sl = round(price - r if side == "BUY" else price + r, 5 if price < 100 else 2)
    result = await services.gateway.control("open_position", symbol=symbol, type=side, volume=volume, sl=sl, tp=0.0)
    ticket = int(result["order"])
    await services.engine.register(Registration(ticket=ticket))
    return ticket


async def capture(data_dir: Path) -> None:
    base = AppSettings()
    settings = replace(base, terminal=replace(base.terminal, sim_demo=False))
    options = RuntimeOptions(
        data_dir=data_dir,
        settings=settings,
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=START,
        in_process=True,
        sim_seed=1,
    )
    services = await Services.open(options, sleep=no_sleep, autorun=False)
    engine = services.engine
    assert await engine.start()
    bridge = EngineBridge(engine)
    window = MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=data_dir / "dtms.sqlite3",
        settings=settings,
        config_path=data_dir / "dtms.toml",
        account=services.gateway.account_info,
        confirm=lambda _p, _t: True,
        notify_interval_s=0.0,
    )
    window.resize(1280, 800)
    await window.load()
    window.show()
    tickets = [
        await open_trade(services, symbol, side, 1.0, r)
        for symbol, r in (("EURUSD", 0.0012), ("GBPUSD", 0.0015), ("USDJPY", 0.15))
        for side in ("BUY", "SELL")
    ]
    # the live simulated market (seed 1) until a trade has had its breakeven, its partial take and a defensive
    # transition, every minute a fast cycle and at each bar close a deep check, as in the program
    ticket = tickets[0]
    for _ in range(900):
        await services.gateway.control("advance", seconds=60)
        await engine.step()
        done = [
            t
            for t in tickets
            if (trade := engine.trade(t)) is not None
            and trade.breakeven_triggered
            and trade.partial_taken
            and trade.state is not DefensiveState.HEALTHY
        ]
        if done:
            ticket = done[0]
            break
    trade = engine.trade(ticket)
    print("state", trade.state if trade else "closed", "score", trade.score if trade else None)
    await asyncio.sleep(0.5)
    window.select_ticket(ticket)
    await asyncio.sleep(0.5)
    window.detail.tabs.setCurrentIndex(0)
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "detail_after_actions.png"))
    window.detail.tabs.setCurrentIndex(1)
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "detail_journal.png"))
    window.detail.tabs.setCurrentIndex(3)
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "detail_score.png"))
    window.detail.tabs.setCurrentIndex(0)
    transition = [n for n in window.notifier.history if n.ticket == ticket and "warning level" in n.title]
    if transition:  # the defensive transition's notice: the state, its reason and the SL it tightened
        window.strip.show_notice(transition[-1])
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "notification.png"))
    if engine.trade(ticket) is not None:
        plan = engine.plan_close(ticket, fraction=0.5)
        box = confirm_box(window, confirmation_text(plan))
        box.show()
        await asyncio.sleep(0.3)
        box.move(window.geometry().center() - box.rect().center())
        await asyncio.sleep(0.2)
        shot = window.grab()  # the window with the dialog over its middle, as the trader sees it
        dialog = box.grab()
        painter = QPainter(shot)
        painter.drawPixmap((shot.width() - dialog.width()) // 2, (shot.height() - dialog.height()) // 2, dialog)
        painter.end()
        shot.save(str(OUT / "one_click_confirmation.png"))
        box.grab().save(str(OUT / "one_click_confirmation_dialog.png"))
        box.close()
    for notice in window.notifier.history:
        print(f"[{notice.severity.label}] {notice.title}: {notice.message}")
    await window.close_tasks()
    bridge.detach()
    await services.close()


def dark_palette(app: QApplication) -> None:
    """A dark Fusion palette, to show that the chart follows the window's colours."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2d31"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1f22"),
        (QPalette.ColorRole.AlternateBase, "#26282c"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#34363b"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d6fb4"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)


def main() -> None:
    global OUT
    app = QApplication(sys.argv[:1])
    if "--dark" in sys.argv:
        dark_palette(app)
        OUT = OUT / "dark"
        OUT.mkdir(exist_ok=True)
    else:
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as data_dir, loop:
        loop.run_until_complete(capture(Path(data_dir)))


if __name__ == "__main__":
    main()
