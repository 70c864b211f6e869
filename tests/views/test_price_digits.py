"""Every price a trader reads in the window is at its symbol's digits: the trades table, Closed today and the
detail pane's journal show BTCUSD (2 digits, prices near 90,000) with its cents and EURUSD with 5 decimals,
where six significant digits would read "SL 88921" for 88921.02."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.registry import Registration
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.closed_model import ClosedColumn, ClosedTradesModel
from app.views.trades_model import Column, TradesModel
from tests.engine.conftest import managed, open_position, open_services, set_price

from .conftest import until
from .test_detail_pane import Answers, window

BID, ASK = 88921.02, 88936.37


async def bitcoin_buy(services: Services) -> int:
    """A BUY of 0.05 BTCUSD at a held price: SL 1,500.00 below the entry, TP 3,000.00 above it."""
    await set_price(services, "BTCUSD", BID, ASK)
    ticket = await open_position(services, "BTCUSD", "BUY", 0.05, sl=87436.37, tp=91936.37)
    await services.engine.register(Registration(ticket=ticket))
    return ticket


async def euro_buy(services: Services) -> int:
    await set_price(services, "EURUSD", 1.08502, 1.08510)
    ticket = await open_position(services, "EURUSD", "BUY", 0.1, sl=1.0831, tp=1.0891)
    await services.engine.register(Registration(ticket=ticket))
    return ticket


@pytest.mark.qasync
async def test_the_trades_table_shows_prices_at_each_symbols_digits(ready: Services, bridge: EngineBridge) -> None:
    model = TradesModel(bridge)
    bitcoin, euro = await bitcoin_buy(ready), await euro_buy(ready)

    def texts(ticket: int) -> tuple[str, str, str]:
        row = model.row_of(ticket)
        assert row is not None
        return tuple(model.data(model.index(row, c)) for c in (Column.ENTRY, Column.SL, Column.TP))

    assert texts(bitcoin) == ("88936.37", "87436.37", "91936.37")
    assert texts(euro) == ("1.08510", "1.08310", "1.08910")


@pytest.mark.qasync
async def test_a_closed_trade_shows_its_entry_and_close_price_at_the_symbols_digits(
    ready: Services, bridge: EngineBridge
) -> None:
    ticket = await bitcoin_buy(ready)
    await ready.engine.step()
    await set_price(ready, "BTCUSD", 89236.3, 89251.72)
    assert (await ready.engine.close_trade(ticket)).ok
    await ready.engine.step()
    closed = ClosedTradesModel(bridge)
    await closed.load()
    assert closed.tickets() == [ticket]
    assert closed.data(closed.index(0, ClosedColumn.ENTRY)) == "88936.37"
    assert closed.data(closed.index(0, ClosedColumn.CLOSE_PRICE)) == "89236.30", "six digits would say 89236.3"


@pytest.mark.qasync
async def test_the_journal_keeps_the_cents_of_a_bitcoin_sl_move(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    ticket = await bitcoin_buy(ready)
    await set_price(ready, "BTCUSD", 89236.37, 89251.72)
    await ready.engine.step()
    before = managed(ready, ticket).sl  # one R below the entry, or tightened by the deep check
    result = await ready.engine.run_manual(ready.engine.plan_breakeven(ticket))
    assert result.ok and managed(ready, ticket).sl == pytest.approx(ASK)
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None and w.detail.journal.rowCount() >= 1)
    assert f"{before:.2f}".endswith(".37")
    assert w.detail.journal.item(0, 3).text() == f"SL {before:.2f} -> 88936.37", "six digits would drop the cents"


@pytest.mark.qasync
async def test_after_a_restart_a_closed_trade_of_a_symbol_no_longer_managed_keeps_its_digits(
    qapp, tmp_path: Path
) -> None:
    """After a restart no BTCUSD trade is open, so the engine never loads its rules; Closed today and the
    detail pane read them from the terminal for the trade they show, instead of six significant digits."""
    first = await open_services(tmp_path)
    try:
        assert await first.engine.start()
        ticket = await bitcoin_buy(first)
        await first.engine.step()
        await set_price(first, "BTCUSD", 89236.3, 89251.72)
        assert (await first.engine.close_trade(ticket)).ok
        await first.engine.step()
    finally:
        await first.close()
    services = await open_services(tmp_path)
    bridge = EngineBridge(services.engine)
    try:
        assert await services.engine.start()
        await euro_buy(services)  # the desk runs on: its clock follows EURUSD's ticks into the same day
        await services.engine.step()
        assert services.engine.market.digits("BTCUSD") is None, "no open BTCUSD trade: its rules are not loaded"
        closed = ClosedTradesModel(bridge)
        await closed.load()
        assert closed.tickets() == [ticket]
        assert closed.data(closed.index(0, ClosedColumn.ENTRY)) == "88936.37"
        assert closed.data(closed.index(0, ClosedColumn.CLOSE_PRICE)) == "89236.30"
        w = window(services, bridge, Answers())
        await w.load()
        w.table_tabs.setCurrentIndex(1)
        await until(lambda: ticket in w.closed.tickets())
        w.closed_view.selectRow(w.closed.tickets().index(ticket))
        await until(lambda: w.detail.trade is not None and w.detail.trade.ticket == ticket)
        assert "at 89236.30" in w.detail.closed_text
        figures = w.detail.figures.text()
        closed_sl = (await services.engine.find_trade(ticket)).sl
        assert "entry 88936.37" in figures and f"SL {closed_sl:.2f}" in figures
        assert "1&nbsp;R&nbsp;=&nbsp;1,500.00 in price = 75.00 at 0.05 lots" in figures, (
            "the R line needs the symbol's rules too, and a closed trade's R is money at the volume it had"
        )
        assert "BTCUSD" not in services.engine.market.symbols(), "shown only: not managed, no bars fetched"
    finally:
        bridge.detach()
        await services.close()
