"""Screenshots of the trader's window in the light and the dark theme at 1280x800: the trades table with trades
in several states (reached by the real engine on scripted simulator prices), the paused banner and a tripped
safety rail, the safety rails' settings and Closed today. Writes the PNGs next to this file:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/capture_window.py [light|dark]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.config import AppSettings  # noqa: E402
from app.engine.defense.rules import DefenseSettings  # noqa: E402
from app.engine.registry import Registration  # noqa: E402
from app.engine.settings import EngineSettings  # noqa: E402
from app.runtime import RuntimeOptions, Services  # noqa: E402
from app.terminal.spec import TerminalKind  # noqa: E402
from app.views.bridge import EngineBridge  # noqa: E402
from app.views.main_window import MainWindow  # noqa: E402
from app.views.program import STYLE_SHEET  # noqa: E402
from app.views.theme import ThemeChoice, themes  # noqa: E402

OUT = Path(__file__).resolve().parent
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday in the London session
STEP_S = 300.0
#: (symbol, side, volume, R in price, price path as (minute, % of the start price)): a crash that goes through
#: WARNING_L1 and L2 to HEDGED, a slow fall to WARNING_L1, a winner that takes breakeven and its partial, and
#: quiet trades that stay HEALTHY.
TRADES = (
    ("EURUSD", "BUY", 0.2, 0.03, ((0, 0.0), (120, -0.24), (125, -0.24), (135, -0.90), (160, -0.90))),
    ("GBPUSD", "BUY", 0.3, 0.03, ((0, 0.0), (140, -0.28), (230, -0.30))),
    ("USDJPY", "BUY", 0.5, 0.30, ((0, 0.0), (60, 0.35), (160, 0.45))),
    ("XAUUSD", "SELL", 0.1, 15.0, ((0, 0.0), (160, 0.02))),
    ("BTCUSD", "BUY", 0.05, 1500.0, ((0, 0.0), (160, 0.3))),
)
MINUTES = 140


async def no_sleep(_: float) -> None:
    return None


async def scenario(data_dir: Path) -> tuple[Services, MainWindow]:
    settings = AppSettings(engine=replace(EngineSettings(), defense=DefenseSettings(hedge_sl_atr=10.0)))
    settings = replace(settings, terminal=replace(settings.terminal, sim_demo=False))
    options = RuntimeOptions(
        data_dir=data_dir, settings=settings, terminal=TerminalKind.SIM, sim_speed=0.0, sim_start=START, in_process=True
    )
    services = await Services.open(options, sleep=no_sleep, autorun=False)
    assert await services.engine.start()
    await services.gateway.control("configure_account", balance=25_000.0, leverage=100)
    bridge = EngineBridge(services.engine)
    window = MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=data_dir / "dtms.toml",
        account=services.gateway.account_info,
        gateway=services.gateway,
        notify_interval_s=3600.0,
    )
    await window.load()
    window.resize(1280, 800)
    window.show()
    for symbol, side, volume, r, knots in TRADES:
        tick = await services.gateway.tick(symbol)
        bid, ask = float(tick.bid), float(tick.ask)
        sl = round(ask - r, 5) if side == "BUY" else round(bid + r, 5)
        opened = await services.gateway.control("open_position", symbol=symbol, type=side, volume=volume, sl=sl)
        await services.engine.register(Registration(ticket=int(opened["order"])))
        points = [(minute * 60.0, round(bid * (1 + pct / 100), 5)) for minute, pct in knots]
        await services.gateway.control("play_path", symbol=symbol, points=points)
    for _ in range(int(MINUTES * 60 / STEP_S)):
        await services.gateway.control("advance", seconds=STEP_S)
        await services.engine.step()
        await asyncio.sleep(0)
    await services.engine.step()
    return services, window


async def settle(window: MainWindow) -> None:
    window.account_strip.refresh()
    window.health.refresh()
    window.trades_view.fit_columns()
    for _ in range(10):
        await asyncio.sleep(0.05)


async def capture(theme: str) -> None:
    themes().apply(ThemeChoice(theme))
    with tempfile.TemporaryDirectory() as tmp:
        services, window = await scenario(Path(tmp))
        try:
            window.trades_view.selectRow(0)
            await settle(window)
            window.grab().save(str(OUT / f"window_{theme}.png"))
            window.banner.pause_button.click()
            await settle(window)
            window.grab().save(str(OUT / f"paused_{theme}.png"))
            window.banner.pause_button.click()
            engine_settings = services.engine.settings
            services.engine.update_settings(
                replace(engine_settings, rails=replace(engine_settings.rails, hourly_loss_pct=0.2))
            )
            await services.gateway.control("advance", seconds=60.0)
            await services.engine.step()
            await settle(window)
            window.grab().save(str(OUT / f"rail_{theme}.png"))
            dialog = window.open_settings("Safety rails")
            await settle(window)
            dialog.grab().save(str(OUT / f"settings_rails_{theme}.png"))
            dialog.reject()
            released = next(t.ticket for t in services.engine.trades() if t.symbol == "GBPUSD")
            await services.engine.unregister(released)  # still open in MT5: "released", apart from the closed
            await services.gateway.control("advance", seconds=60.0)
            await services.engine.step()
            window.table_tabs.setCurrentIndex(1)
            await settle(window)
            window.grab().save(str(OUT / f"closed_today_{theme}.png"))
        finally:
            await window.close_tasks()
            window.bridge.detach()
            window.hide()
            await services.close()


async def main_async(selected: list[str]) -> None:
    for theme in selected:
        await capture(theme)


def main() -> None:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main_async(sys.argv[1:] or ["light", "dark"]))


if __name__ == "__main__":
    main()
