"""The window's detail pane shows a trade that retention moved to the yearly archive: title, actions, states."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.detail import DetailPane

from .conftest import register_buy


@pytest.mark.qasync
async def test_the_detail_pane_shows_an_archived_trade(ready: Services, bridge: EngineBridge) -> None:
    ticket = await register_buy(ready)
    await ready.engine.step()
    position = (await ready.gateway.positions(ticket=ticket))[0]
    await ready.gateway.control("modify_position", ticket=ticket, sl=round(float(position.sl) - 0.0010, 5))
    await ready.engine.step()  # an outside change: journaled
    await ready.gateway.control("close_position", ticket=ticket)
    await ready.engine.step()  # closed: no longer managed
    await ready.gateway.control("advance", seconds=3 * 86400.0)
    await ready.engine.step()  # the engine reads the terminal's time
    settings = ready.engine.settings
    ready.engine.update_settings(replace(settings, storage=replace(settings.storage, retention_days=2.0)))
    journal = await ready.engine.journal(ticket)
    assert (await ready.engine.housekeeping()).trades == 1
    assert await ready.repository.load_active_trades() == [] and ready.repository.archive_paths()

    pane = DetailPane(bridge)
    pane.ticket = ticket
    await pane.load(ticket)
    assert f"#{ticket} EURUSD BUY" in pane.title.text() and "CLOSED" in pane.title.text()
    assert pane.journal.rowCount() == len(journal) > 0
    assert {pane.journal.item(row, 1).text() for row in range(pane.journal.rowCount())} >= {"EXTERNAL_CHANGE"}
    assert not pane.stop_button.isEnabled()
    pane.deleteLater()
