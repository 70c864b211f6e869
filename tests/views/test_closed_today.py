"""Closed today keeps closed trades (gone in MT5, with their final volume, money and R) apart from released
ones (DTMS stopped managing them; still open in MT5), and totals the day over the closed ones only."""

from __future__ import annotations

import pytest

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.closed_model import ClosedColumn
from tests.engine.conftest import set_price

from .conftest import register_buy, until
from .test_main_window import window

R = 0.0020


def cell(w, row: int, column: ClosedColumn) -> str:
    return w.closed.data(w.closed.index(row, column))


@pytest.mark.qasync
async def test_closed_and_released_are_told_apart_with_the_days_total(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, [True], [])
    await w.load()
    w.show()
    closed = await register_buy(ready, "EURUSD", r=R, volume=1.0)
    released = await register_buy(ready, "GBPUSD", volume=0.3)
    await ready.engine.step()
    entry = ready.engine.trade(closed).entry
    # half is closed in MT5 at +1 R, the rest at +0.5 R
    await set_price(ready, "EURUSD", round(entry + R, 5))
    assert (await ready.gateway.control("close_position", ticket=closed, volume=0.5))["retcode"] == 10009
    await ready.engine.step()
    await set_price(ready, "EURUSD", round(entry + R / 2, 5))
    assert (await ready.gateway.control("close_position", ticket=closed))["retcode"] == 10009
    await ready.engine.step()
    await ready.engine.unregister(released)
    await until(lambda: w.closed.rowCount() == 2)

    assert [cell(w, r, ClosedColumn.ENDED) for r in range(2)] == ["Closed", "Released"], "closed first"
    assert cell(w, 0, ClosedColumn.TICKET) == str(closed)
    assert cell(w, 0, ClosedColumn.VOLUME) == "1 (0.5 partial)", "the whole closed volume, not what was left"
    trade = await ready.engine.find_trade(closed)
    assert cell(w, 0, ClosedColumn.PROFIT) == f"{trade.close_profit:,.2f}"
    assert trade.close_profit == pytest.approx(150.0, rel=0.05), "0.5 lot at 20 pips + 0.5 lot at 10 pips"
    assert cell(w, 0, ClosedColumn.PROFIT_R) == "+0.75", "150 USD over 200 USD first at risk"
    # the released trade has no result: still open in MT5
    assert cell(w, 1, ClosedColumn.TICKET) == str(released)
    assert cell(w, 1, ClosedColumn.PROFIT) is None and cell(w, 1, ClosedColumn.PROFIT_R) is None
    assert cell(w, 1, ClosedColumn.VOLUME) == "0.3"
    total = w.closed_total.text()
    assert total.startswith(f"Closed today: 1 trade, {trade.close_profit:+,.2f} (+0.75 R)")
    assert "Released: 1 (still open in MT5" in total
    await w.close_tasks()


@pytest.mark.qasync
async def test_a_desk_running_past_midnight_starts_the_new_day_empty(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, [True], [])
    await w.load()
    await register_buy(ready, "USDJPY", r=0.2, volume=0.1)  # open throughout: its ticks are the desk's clock
    before = await register_buy(ready, "EURUSD", r=R, volume=1.0)
    await ready.engine.step()
    assert (await ready.gateway.control("close_position", ticket=before))["retcode"] == 10009
    await ready.engine.step()
    await until(lambda: w.closed.rowCount() == 1)
    now = ready.engine.clock.now()
    await ready.gateway.control("advance", seconds=86400.0 - now % 86400.0 + 60.0)  # a minute into the next day
    await ready.engine.step()
    await until(lambda: w.closed.rowCount() == 0)
    assert w.closed_total.text().startswith("Closed today: 0 trades, +0.00 (+0.00 R)")
    after = await register_buy(ready, "GBPUSD", volume=0.3)
    await ready.engine.step()
    assert (await ready.gateway.control("close_position", ticket=after))["retcode"] == 10009
    await ready.engine.step()
    await until(lambda: w.closed.rowCount() == 1)
    assert cell(w, 0, ClosedColumn.TICKET) == str(after), "the new day's trades are added as before"
    await w.close_tasks()
