"""Status the trader cannot miss: pausing from the window, a tripped rail, a silent terminal and a degraded
database turn the banner amber with what it means and the way out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.engine.model import LifecycleState
from app.engine.rails import Rail, RailStatus
from app.runtime import Services
from app.views.banner import LifecycleBanner
from app.views.bridge import EngineBridge
from app.views.palette import AMBER, LIFECYCLE_COLOURS
from app.views.status_lines import rail_line
from tests.engine.conftest import set_price

from .conftest import register_buy


@pytest.mark.qasync
async def test_pause_and_resume_from_the_banner(ready: Services, bridge: EngineBridge) -> None:
    banner = LifecycleBanner(bridge, simulated=True)
    await register_buy(ready, "EURUSD")
    await register_buy(ready, "GBPUSD")
    assert not banner.amber and banner.text().startswith("READY - monitoring")
    assert banner.pause_button.text() == "Pause"
    banner.pause_button.click()
    assert ready.engine.paused
    assert banner.amber and banner.colour == AMBER
    assert banner.text().startswith("PAUSED: 2 trades unprotected") and "Resume" in banner.text()
    assert banner.pause_button.text() == "Resume"
    banner.pause_button.click()
    assert not ready.engine.paused and not banner.amber
    assert banner.colour == LIFECYCLE_COLOURS[LifecycleState.READY] and "PAUSED" not in banner.text()
    # the tray's pause reaches the banner as well
    ready.engine.pause(True)
    assert banner.amber and banner.pause_button.text() == "Resume"
    ready.engine.pause(False)
    await banner.close_tasks()


@pytest.mark.qasync
async def test_a_tripped_rail_turns_the_banner_amber_with_what_it_blocks(ready: Services, bridge: EngineBridge) -> None:
    opened: list[int] = []
    banner = LifecycleBanner(bridge, simulated=True, open_rails=lambda: opened.append(1))
    settings = ready.engine.settings
    ready.engine.update_settings(replace(settings, rails=replace(settings.rails, hourly_loss_pct=0.001)))
    ticket = await register_buy(ready, "EURUSD")
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry - 0.0005, 5))
    await ready.engine.step()
    assert banner.amber
    text = banner.text()
    assert "Hedges and re-adds blocked on every symbol: hourly loss" in text and "limit 0.001 %" in text
    assert "SL moves and closes go on" in text
    assert banner.rails_button.isVisibleTo(banner)
    banner.rails_button.click()
    assert opened == [1], "the way out: the safety rails' settings"
    await banner.close_tasks()


@pytest.mark.qasync
async def test_terminal_stall_database_and_symbols_show_in_the_banner(ready: Services, bridge: EngineBridge) -> None:
    banner = LifecycleBanner(bridge, simulated=True)
    health = ready.engine.health()
    banner.show_health(
        replace(health, terminal_stall_s=12.4, database_problem="disk full", symbol_problems={"XAUUSD": "no ticks"})
    )
    text = banner.text()
    assert banner.amber
    assert "Terminal not answering for 12 s" in text
    assert "Database degraded: disk full" in text
    assert "No prices for XAUUSD" in text
    banner.show_health(health)
    assert not banner.amber and "Terminal not answering" not in banner.text()
    await banner.close_tasks()


def test_rail_lines_name_the_rail_the_symbol_and_how_it_clears() -> None:
    hourly = RailStatus(rail=Rail.HOURLY_LOSS, tripped=True, detail="loss 1.80 % of balance (limit 1 %)")
    assert rail_line(hourly).startswith(
        "Hedges and re-adds blocked on every symbol: hourly loss 1.80 % of balance, limit 1 %."
    )
    spread = RailStatus(rail=Rail.SPREAD, tripped=True, detail="spread 0.0009 vs median 0.0001", symbol="EURUSD")
    assert rail_line(spread).startswith("Hedges and re-adds blocked on EURUSD: wide spread: spread 0.0009")
    assert "clears when the spread is back near its median" in rail_line(spread)
