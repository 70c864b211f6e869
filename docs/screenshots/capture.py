"""Screenshots of the window on the simulator: ``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python
docs/screenshots/capture.py`` writes PNGs next to this file."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.cli import CommandLine  # noqa: E402
from app.config import AppSettings  # noqa: E402
from app.runtime import RuntimeOptions  # noqa: E402
from app.terminal.spec import TerminalKind  # noqa: E402
from app.views.main_window import MainWindow  # noqa: E402
from app.views.program import STYLE_SHEET, run_program  # noqa: E402

OUT = Path(__file__).resolve().parent


async def capture(data_dir: Path) -> None:
    settings = AppSettings()
    settings = replace(settings, api=replace(settings.api, port=0))
    options = RuntimeOptions(
        data_dir=data_dir, settings=settings, terminal=TerminalKind.SIM, sim_speed=30.0, in_process=True
    )
    config = data_dir / "dtms.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[engine.adoption]\npolicy = "none"\n', encoding="utf-8")  # the first-run question answered
    command = CommandLine(headless=False, config_path=config, options=options)
    windows: list[MainWindow] = []
    stop = asyncio.Event()
    program = asyncio.ensure_future(run_program(command, stop, on_window=windows.append))
    while not windows or windows[0].trades.rowCount() < 3:
        await asyncio.sleep(0.1)
    window = windows[0]
    engine = window.bridge.engine
    await asyncio.sleep(3.0)
    ticket = next(t.ticket for t in engine.trades() if t.symbol == "EURUSD")
    window.select_ticket(ticket)
    await asyncio.sleep(1.0)
    window.health.refresh()
    window.grab().save(str(OUT / "main_window.png"))

    # the EURUSD trade passes its breakeven trigger (the engine's setting): the engine moves its SL, the journal and
    # log show it
    trade = engine.trade(ticket)
    bid = round(trade.entry + (engine.settings.protection.breakeven_r + 0.05) * trade.r, 5)
    url = window.health.text("HTTP endpoint")
    async with httpx.AsyncClient() as client:
        await client.post(f"{url}/sim/ticks", json={"symbol": "EURUSD", "bid": bid, "ask": round(bid + 0.0001, 5)})
        while not engine.trade(ticket).breakeven_triggered:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        await client.post(f"{url}/sim/ticks", json={"symbol": "EURUSD", "mode": "live"})
    window.select_ticket(ticket)
    window.detail.tabs.setCurrentIndex(1)
    window.bottom_tabs.setCurrentIndex(1)
    await asyncio.sleep(0.5)
    window.grab().save(str(OUT / "journal_and_log.png"))
    window.banner.grab().save(str(OUT / "banner_ready.png"))
    dialog = window.open_settings()
    dialog.tabs.setCurrentIndex(1)
    await asyncio.sleep(0.3)
    dialog.grab().save(str(OUT / "settings_dialog.png"))
    dialog.reject()
    stop.set()
    await program


def main() -> None:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as data_dir, loop:
        loop.run_until_complete(capture(Path(data_dir)))


if __name__ == "__main__":
    main()
