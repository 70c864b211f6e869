"""The compact health panel (one line, details on demand, failing symbols) and the event log in terminal time
with a severity filter."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from app.engine.events import EngineEvent
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.health import HealthPanel
from app.views.log_panel import EventLogPage, EventLogPanel
from app.views.trades_model import terminal_time_text
from tests.engine.conftest import set_price

from .conftest import register_buy


@pytest.mark.qasync
async def test_health_is_one_line_with_details_on_demand(ready: Services, bridge: EngineBridge) -> None:
    panel = HealthPanel(bridge, terminal="simulator", database=ready.data_dir / "dtms.sqlite3")
    panel.show()
    await ready.engine.step()
    panel.refresh()
    summary = panel.summary.text()
    assert summary.startswith("simulator, connection 1 | last cycle ")
    assert "rails clear" in summary and "all symbols answering" in summary
    assert not panel.details.isVisible(), "details only on demand"
    panel.details_button.click()
    assert panel.details.isVisible() and panel.details_button.text() == "Hide details"
    panel.refresh(
        replace(
            ready.engine.health(),
            symbol_problems={"XAUUSD": "symbol_info_tick failed"},
            terminal_stall_s=8.0,
            database_problem="disk I/O error",
        )
    )
    assert panel.text("Symbols") == "XAUUSD: symbol_info_tick failed"
    summary = panel.summary.text()
    assert "failing: XAUUSD" in summary and "terminal not answering for 8 s" in summary
    assert "database degraded: disk I/O error" in summary
    panel.details_button.click()
    assert not panel.details.isVisible()
    await panel.close_tasks()


@pytest.mark.qasync
async def test_event_log_in_terminal_time_filtered_by_severity(ready: Services, bridge: EngineBridge) -> None:
    panel = EventLogPanel(bridge)
    page = EventLogPage(panel)
    events: list[EngineEvent] = []
    bridge.event.connect(events.append)
    settings = ready.engine.settings
    ready.engine.update_settings(replace(settings, rails=replace(settings.rails, hourly_loss_pct=0.001)))
    ticket = await register_buy(ready, "EURUSD")
    await set_price(ready, "EURUSD", round(ready.engine.trade(ticket).entry - 0.0005, 5))
    await ready.engine.step()  # the hourly loss rail trips: a warning
    registered = next(e for e in events if e.kind.value == "trade_registered")
    lines = panel.toPlainText().splitlines()
    line = next(line for line in lines if "event trade_registered" in line)
    assert line.startswith(f"{terminal_time_text(registered.at)} INFO event trade_registered")
    assert abs(registered.at - registered.wall_at) > 3600, "the simulator's clock is not the wall clock"
    panel.handler.emit(logging.LogRecord("app.engine.cycle", logging.ERROR, __file__, 1, "send failed", None, None))
    assert panel.toPlainText().splitlines()[-1].startswith(terminal_time_text(ready.engine.clock.now()))

    page.filter.setCurrentIndex(1)  # warnings and errors
    shown = panel.toPlainText().splitlines()
    assert shown and all(" INFO " not in s for s in shown)
    assert any("event rail" in s and "WARNING" in s for s in shown)
    assert any("ERROR app.engine.cycle: send failed" in s for s in shown)
    page.filter.setCurrentIndex(2)  # errors only
    assert all(" ERROR " in s for s in panel.toPlainText().splitlines())
    page.filter.setCurrentIndex(0)
    assert any("event trade_registered" in s for s in panel.toPlainText().splitlines()), "earlier lines again"
