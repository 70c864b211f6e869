"""The trades table follows the engine: rows appear, change cell by cell and leave; closed trades move to
the closed-today table; sorting and filtering work through the proxy."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from app.engine.model import DefensiveState
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.closed_model import ClosedColumn, ClosedTradesModel
from app.views.palette import STATE_TEXT_LIGHT
from app.views.table_order import TradesFilter
from app.views.table_view import TradeTable
from app.views.trades_model import Column, TradesModel, changed_blocks, changed_ranges
from tests.engine.conftest import set_price

from .conftest import register_buy

R = 0.0020


class ChangedCells:
    def __init__(self, model: TradesModel) -> None:
        self.cells: list[tuple[int, int]] = []
        model.dataChanged.connect(self._record)

    def _record(self, top_left, bottom_right, _roles=()) -> None:
        for row in range(top_left.row(), bottom_right.row() + 1):
            for column in range(top_left.column(), bottom_right.column() + 1):
                self.cells.append((row, column))


def test_changed_ranges_groups_neighbouring_columns() -> None:
    assert changed_ranges((1, 2, 3, 4, 5), (1, 9, 9, 4, 0)) == [(1, 2), (4, 4)]
    assert changed_ranges((1, 2), (1, 2)) == []


@pytest.mark.qasync
async def test_rows_appear_change_and_leave(ready: Services, bridge: EngineBridge) -> None:
    model = TradesModel(bridge)
    inserted: list[int] = []
    model.rowsInserted.connect(lambda _p, first, _last: inserted.append(first))
    ticket = await register_buy(ready)
    assert inserted == [0] and model.rowCount() == 1 and model.ticket_at(0) == ticket
    assert model.data(model.index(0, Column.STATE)) == "HEALTHY"
    assert (
        model.data(model.index(0, Column.STATE), Qt.ItemDataRole.ForegroundRole).name()
        == STATE_TEXT_LIGHT[DefensiveState.HEALTHY]
    )
    assert model.data(model.index(0, Column.OWNER)) == "dtms_manager", "the owner as bots read it over HTTP"

    cells = ChangedCells(model)
    await ready.engine.step()
    entry = ready.engine.trade(ticket).entry
    assert model.data(model.index(0, Column.PRICE)) != ""
    assert {c for _, c in cells.cells} <= {Column.PRICE, Column.PROFIT, Column.PROFIT_R, Column.SCORE}

    cells.cells.clear()
    await ready.engine.step()  # same held price: nothing changed, nothing signalled
    assert cells.cells == []

    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()  # breakeven: SL moves, BE flag and last action change
    changed = {c for _, c in cells.cells}
    assert {Column.SL, Column.BREAKEVEN, Column.LAST_ACTION, Column.PRICE, Column.PROFIT_R} <= changed
    assert Column.TICKET not in changed and Column.ENTRY not in changed and Column.SYMBOL not in changed
    assert model.data(model.index(0, Column.BREAKEVEN)) == "yes"
    assert model.data(model.index(0, Column.PROFIT_R)) == "+1.00"

    closed = ClosedTradesModel(bridge)
    await closed.load()
    assert closed.rowCount() == 0
    removed: list[int] = []
    model.rowsRemoved.connect(lambda _p, first, _last: removed.append(first))
    await ready.engine.unregister(ticket)
    assert removed == [0] and model.rowCount() == 0
    for _ in range(100):
        if closed.rowCount():
            break
        await asyncio.sleep(0.01)
    assert closed.tickets() == [ticket]
    reloaded = ClosedTradesModel(bridge)
    await reloaded.load()
    assert reloaded.tickets() == [ticket]
    await closed.close_tasks()


@pytest.mark.qasync
async def test_proxy_sorts_and_filters(ready: Services, bridge: EngineBridge) -> None:
    model = TradesModel(bridge)
    first = await register_buy(ready, "EURUSD")
    second = await register_buy(ready, "GBPUSD")
    await ready.engine.step()
    proxy = TradesFilter(model)
    proxy.sort(Column.TICKET, Qt.SortOrder.DescendingOrder)
    assert [proxy.data(proxy.index(r, Column.TICKET)) for r in range(2)] == [str(second), str(first)]
    proxy.setFilterFixedString("gbp")
    assert proxy.rowCount() == 1 and proxy.data(proxy.index(0, Column.SYMBOL)) == "GBPUSD"
    assert ready.engine.trade(second).state is DefensiveState.HEALTHY
    proxy.setFilterFixedString("healthy")
    assert proxy.rowCount() == 2, "the state is searched"
    proxy.setFilterFixedString(proxy.data(proxy.index(0, Column.PRICE))[:4])
    assert proxy.rowCount() == 0, "live prices are not searched (rows would come and go with the market)"
    proxy.setFilterFixedString("")


def symbols_in_order(proxy: TradesFilter) -> list[str]:
    return [proxy.data(proxy.index(r, Column.SYMBOL)) for r in range(proxy.rowCount())]


@pytest.mark.qasync
async def test_a_live_sort_follows_the_prices_and_keeps_the_selection(ready: Services, bridge: EngineBridge) -> None:
    model = TradesModel(bridge)
    proxy = TradesFilter(model)
    entries = {}
    for symbol in ("EURUSD", "GBPUSD"):
        entries[symbol] = ready.engine.trade(await register_buy(ready, symbol)).entry
    proxy.sort(Column.PROFIT, Qt.SortOrder.DescendingOrder)

    async def move(ahead: str, behind: str) -> None:
        await set_price(ready, ahead, round(entries[ahead] + 0.5 * R, 5))
        await set_price(ready, behind, round(entries[behind] - 0.5 * R, 5))
        await ready.engine.step()

    await move("EURUSD", "GBPUSD")
    assert symbols_in_order(proxy) == ["EURUSD", "GBPUSD"]
    selected = QPersistentModelIndex(proxy.index(0, Column.SYMBOL))
    await move("GBPUSD", "EURUSD")
    assert symbols_in_order(proxy) == ["GBPUSD", "EURUSD"], "sorted again when profits changed"
    assert selected.row() == 1 and selected.data() == "EURUSD", "a held index stays on its trade"
    proxy.sort(Column.SYMBOL, Qt.SortOrder.AscendingOrder)
    assert symbols_in_order(proxy) == ["EURUSD", "GBPUSD"]

    closed = ClosedTradesModel(bridge)
    closed_proxy = TradesFilter(closed)
    await closed.load()
    for ticket in sorted(t.ticket for t in ready.engine.trades()):
        await ready.engine.unregister(ticket)
    for _ in range(100):
        if closed.rowCount() == 2:
            break
        await asyncio.sleep(0.01)
    closed_proxy.sort(ClosedColumn.SYMBOL, Qt.SortOrder.DescendingOrder)
    assert [closed_proxy.data(closed_proxy.index(r, ClosedColumn.SYMBOL)) for r in range(2)] == ["GBPUSD", "EURUSD"]
    closed_proxy.setFilterFixedString("eur")
    assert closed_proxy.rowCount() == 1
    await closed.close_tasks()


def test_changed_blocks_give_one_rectangle_per_column_range() -> None:
    rows = [(0, [(7, 9)]), (1, [(7, 9)]), (2, [(5, 5), (7, 9)]), (4, [(7, 9)]), (5, [(5, 5)])]
    assert sorted(changed_blocks(rows)) == [(0, 4, 7, 9), (2, 5, 5, 5)]
    assert changed_blocks([]) == []


def test_table_columns_fit_when_shown_and_when_rows_arrive(qtbot) -> None:
    model = QStandardItemModel(0, 2)
    model.appendRow([QStandardItem("1"), QStandardItem("x")])
    table = TradeTable(model)
    qtbot.addWidget(table)
    assert table.columnWidth(0) == table.horizontalHeader().defaultSectionSize(), "a hidden table is not measured"
    table.show()
    narrow = table.columnWidth(0)
    assert narrow < table.horizontalHeader().defaultSectionSize(), "fitted to its contents when shown"
    model.appendRow([QStandardItem("a much longer ticket text than before"), QStandardItem("y")])
    qtbot.waitUntil(lambda: table.columnWidth(0) > narrow, timeout=2000)


def test_last_action_in_a_traders_words() -> None:
    from app.views.trades_model import action_words

    assert action_words("PARTIAL_CLOSE SUCCESS") == "Partial close done"
    assert action_words("TIGHTEN FAILED") == "Tighten SL failed"
    assert action_words("BREAKEVEN NOT_SENT") == "Breakeven reached"
    assert action_words("EXTERNAL_CHANGE NOT_SENT") == "Changed in MT5"
    assert action_words("HEDGE UNKNOWN") == "Hedge unsure"


@pytest.mark.qasync
async def test_a_figure_that_rounds_to_zero_reads_as_zero_whatever_its_sign(
    ready: Services, bridge: EngineBridge
) -> None:
    """A score of -0.0 equals 0.0, so a row holding one keeps its text when the other arrives: both read
    +0.00, as does a value that rounds to zero from below."""
    model = TradesModel(bridge)
    ticket = await register_buy(ready)
    trade = ready.engine.trade(ticket)
    for score in (-0.0, 0.0, -0.004):
        trade.score = score
        model.refresh({ticket})
        assert model.data(model.index(0, Column.SCORE)) == "+0.00"
