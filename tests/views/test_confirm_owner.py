"""The window's small affordances for this issue: confirming "unconfirmed" trades from the trades table's
context menu (one, or all), and the banner and tray saying the terminal is not answering."""

from __future__ import annotations

import time

import pytest

from app.engine.model import TradeSource
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from tests.engine.conftest import open_position

from .conftest import until


def window(services: Services, bridge: EngineBridge) -> MainWindow:
    return MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=services.data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=services.data_dir / "dtms.toml",
        notify_interval_s=0.0,
    )


async def watched(services: Services) -> int:
    ticket = await open_position(services, "EURUSD", "BUY", 0.1)
    (position,) = await services.gateway.positions(ticket=ticket)
    assert await services.engine.registry.adopt(position, TradeSource.REBUILT, managed_by="unconfirmed")
    return ticket


@pytest.mark.qasync
async def test_unconfirmed_trades_are_confirmed_from_the_context_menu(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge)
    w.show()
    first, second, third = [await watched(ready) for _ in range(3)]
    await until(lambda: w.trades.rowCount() == 3)
    actions = w.owner_confirmation
    assert actions.confirm_one in w.trades_view.actions() and actions.confirm_all in w.trades_view.actions()
    w.select_ticket(first)
    await until(lambda: actions.confirm_one.isEnabled())
    actions.confirm_one.trigger()
    await until(lambda: ready.engine.trade(first).managed_by == "DTMS")
    await until(lambda: not actions.confirm_one.isEnabled())
    assert actions.confirm_all.isEnabled()
    actions.confirm_all.trigger()
    await until(lambda: ready.engine.registry.unconfirmed() == [])
    assert {ready.engine.trade(t).managed_by for t in (second, third)} == {"DTMS"}
    await until(lambda: not actions.confirm_all.isEnabled())
    await w.close_tasks()


@pytest.mark.qasync
async def test_the_banner_and_tray_say_the_terminal_is_not_answering(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge)
    w.show()
    ready.gateway._in_flight = ("positions_get", time.monotonic() - 2.5)  # a call waiting 2.5 s
    ready.engine.stall.poll()
    await until(lambda: "Terminal not answering" in w.banner.text())
    assert "not answering" in w.tray.tooltip()
    ready.gateway._in_flight = None  # the call returned
    ready.engine.stall.poll()
    await until(lambda: "not answering" not in w.banner.text())
    assert "not answering" not in w.tray.tooltip()
    await w.close_tasks()
