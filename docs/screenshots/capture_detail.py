"""Screenshots of the trade detail on the simulator, driven step by step on a frozen simulated clock:
``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/capture_detail.py``.

A EURUSD trade is taken to breakeven and its partial take by scripted prices; a GBPUSD trade in the live
simulated market is taken to WARNING_L1 by the deep check and then reaches breakeven, and the trader closes half
of it with one click. The window (1280x800) is captured with the detail pane on
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
from PySide6.QtGui import QPainter
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


async def walk(services: Services, symbol: str, prices: list[float], seconds: float = 60.0) -> None:
    """Hold each price for ``seconds`` of simulated time, with a fast cycle at each."""
    for bid in prices:
        await services.gateway.control("set_price", symbol=symbol, bid=round(bid, 5), ask=round(bid + 0.0001, 5))
        await services.gateway.control("advance", seconds=seconds)
        await services.engine.step()


async def capture(data_dir: Path) -> None:
    base = AppSettings()
    settings = replace(base, terminal=replace(base.terminal, sim_demo=False))
    options = RuntimeOptions(data_dir=data_dir, settings=settings, terminal=TerminalKind.SIM, sim_speed=0.0,
                             sim_start=START, in_process=True)
    services = await Services.open(options, sleep=no_sleep, autorun=False)
    engine = services.engine
    assert await engine.start()
    bridge = EngineBridge(engine)
    window = MainWindow(bridge, quit_program=lambda: None, simulated=True, terminal="simulator",
                        database=data_dir / "dtms.sqlite3", settings=settings, config_path=data_dir / "dtms.toml",
                        account=services.gateway.account_info, confirm=lambda _p, _t: True, notify_interval_s=0.0)
    window.resize(1280, 800)
    await window.load()
    window.show()
    # a tight R (10 pips) against the market's ATR: the trail stays behind breakeven while price turns
    euro = await open_trade(services, "EURUSD", "BUY", 1.0, 0.0020)
    ticket = await open_trade(services, "GBPUSD", "SELL", 1.0, 0.0025)
    await open_trade(services, "USDJPY", "BUY", 0.3, 0.25)
    for _ in range(5):  # a few live minutes
        await services.gateway.control("advance", seconds=60)
        await engine.step()
    # EURUSD: up to breakeven (1 R) and the partial take (1.5 R), then back to the live market
    trade = engine.trade(euro)
    await walk(services, "EURUSD", [trade.entry + f * trade.r for f in (0.3, 0.6, 0.9, 1.05, 1.2, 1.4, 1.55)])
    await services.gateway.control("release_price", symbol="EURUSD")
    # GBPUSD in the live market: the deep check takes it to WARNING_L1 (SL tightened), then it reaches 1 R
    for _ in range(600):
        trade = engine.trade(ticket)
        if trade is None or (trade.state is not DefensiveState.HEALTHY and trade.breakeven_triggered):
            break
        await services.gateway.control("advance", seconds=60)
        await engine.step()
    if engine.trade(ticket) is not None:  # and the trader takes half off with one click
        print(await engine.close_part(ticket, fraction=0.5))
        await engine.step()
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


def main() -> None:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as data_dir, loop:
        loop.run_until_complete(capture(Path(data_dir)))


if __name__ == "__main__":
    main()
