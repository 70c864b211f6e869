"""The trades table at thousands of trades: a cycle's ``trade_updated`` rows are partial (a ticket absent did
not change), only the changed rows in view are signalled, rows out of view are right when scrolled to, the
table sorted by a live column follows the prices, and the filter is the model's own."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.table_order import TradeFilter, insert_position
from app.views.table_view import TradeTable
from app.views.trades_model import QT_CLIPPED_CELLS, Column, TradesModel, clipped_blocks

from .conftest import register_buy


class Signalled:
    """Every ``dataChanged`` rectangle as (top, bottom, first column, last column)."""

    def __init__(self, model: TradesModel) -> None:
        self.blocks: list[tuple[int, int, int, int]] = []
        model.dataChanged.connect(self._record)

    def _record(self, top_left: QModelIndex, bottom_right: QModelIndex, _roles: Any = ()) -> None:
        self.blocks.append((top_left.row(), bottom_right.row(), top_left.column(), bottom_right.column()))

    def rows(self) -> set[int]:
        return {row for top, bottom, _f, _l in self.blocks for row in range(top, bottom + 1)}


def prices(ticket: int, price: float, profit: float, r: float) -> dict[str, Any]:
    return {"ticket": ticket, "price": price, "profit": profit, "profit_r": r}


def texts(model: TradesModel, column: int) -> list[str]:
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


async def buy(ready: Services, symbol: str) -> int:
    return await register_buy(ready, symbol, r=0.2 if symbol == "USDJPY" else 0.002)


async def five_trades(ready: Services) -> list[int]:
    return [await buy(ready, symbol) for symbol in ("EURUSD", "GBPUSD", "USDJPY", "EURUSD", "GBPUSD")]


@pytest.mark.qasync
async def test_a_partial_update_changes_only_its_rows(ready: Services, bridge: EngineBridge) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    bridge.trade_updated.emit([prices(t, 1.1, 10.0 * i, 0.1 * i) for i, t in enumerate(tickets)])
    signalled = Signalled(model)
    bridge.trade_updated.emit([prices(tickets[2], 1.2, 55.5, 0.55)])
    assert signalled.rows() == {model.row_of(tickets[2])}
    assert {(f, last) for _t, _b, f, last in signalled.blocks} == {(Column.PRICE, Column.PROFIT_R)}
    assert texts(model, Column.PROFIT) == ["0.00", "10.00", "55.50", "30.00", "40.00"], "the others kept"
    assert model.live(tickets[4]) == {"price": 1.1, "profit": 40.0, "profit_r": 0.4}

    signalled.blocks.clear()
    bridge.trade_updated.emit([{"ticket": tickets[3], "profit": -7.0}])  # only some fields: merged
    assert model.live(tickets[3]) == {"price": 1.1, "profit": -7.0, "profit_r": 0.30000000000000004}
    assert signalled.rows() == {model.row_of(tickets[3])}
    signalled.blocks.clear()
    bridge.trade_updated.emit([prices(tickets[0], 1.1, 0.0, 0.0)])  # the values it already had
    assert signalled.blocks == [], "a row whose values did not change is not repainted"

    row = prices(tickets[1], 1.1, 10.0, 0.1)
    bridge.trade_updated.emit([row])
    signalled.blocks.clear()
    row["profit"] = 11.0  # the same dict published again with a new value: still seen as a change
    bridge.trade_updated.emit([row])
    assert signalled.rows() == {model.row_of(tickets[1])} and model.live(tickets[1])["profit"] == 11.0


@pytest.mark.qasync
async def test_only_rows_in_view_are_signalled_and_rows_out_of_view_are_right_when_scrolled_to(
    ready: Services, bridge: EngineBridge, qtbot
) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    table = await table_showing(model, qtbot, rows=2)
    first, last = table.rows_in_view()
    assert first == 0 and last < 4, "the table shows the first rows only"
    signalled = Signalled(model)
    bridge.trade_updated.emit([prices(t, 1.3, 100.0 + i, 1.0 + i) for i, t in enumerate(tickets)])
    assert signalled.rows() <= set(range(first, last + 1)), "rows out of view are not signalled"
    assert signalled.rows(), "the rows in view are"
    table.scrollToBottom()
    assert table.rows_in_view()[1] == 4
    expected = f"{100.0 + tickets.index(model.ticket_at(4)):.2f}"
    assert model.data(model.index(4, Column.PROFIT)) == expected, "a row scrolled to shows its last values"

    table.hide()
    signalled.blocks.clear()
    bridge.trade_updated.emit([prices(t, 1.4, 200.0, 2.0) for t in tickets])
    assert signalled.blocks == [], "a hidden table (another tab, the tray) repaints nothing"
    assert model.data(model.index(0, Column.PROFIT)) == "200.00"


async def table_showing(model: TradesModel, qtbot: Any, rows: int, width: int = 600) -> TradeTable:
    """The model's table, shown with room for ``rows`` rows, the model told which rows are in view."""
    table = TradeTable(model)
    qtbot.addWidget(table)
    model.rows_in_view = table.rows_in_view
    table.resize(width, table.horizontalHeader().height() + rows * table.rowHeight(0) + 4)
    table.show()
    await qtbot_wait_visible(table)
    return table


async def qtbot_wait_visible(table: TradeTable) -> None:
    import asyncio

    for _ in range(100):
        if table.isVisible() and table.rowAt(0) == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the table was not shown")


def test_the_rows_in_view_are_signalled_in_rectangles_qt_repaints_cell_by_cell() -> None:
    blocks = clipped_blocks(0, 199, Column.PRICE, Column.PROFIT_R)
    assert all((b - t + 1) * (last - f + 1) <= QT_CLIPPED_CELLS for t, b, f, last in blocks)
    assert {r for t, b, _f, _l in blocks for r in range(t, b + 1)} == set(range(200)) and len(blocks) == 4
    assert clipped_blocks(3, 9, Column.SCORE, Column.SCORE) == [(3, 9, Column.SCORE, Column.SCORE)]


@pytest.mark.qasync
async def test_sorted_by_profit_the_order_follows_partial_updates_and_keeps_the_selection(
    ready: Services, bridge: EngineBridge
) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    bridge.trade_updated.emit([prices(t, 1.1, float(i), 0.0) for i, t in enumerate(tickets)])
    model.sort(Column.PROFIT, Qt.SortOrder.DescendingOrder)
    assert [model.ticket_at(r) for r in range(5)] == tickets[::-1]
    held = QPersistentModelIndex(model.index(model.row_of(tickets[1]), Column.SYMBOL))
    layouts: list[int] = []
    model.layoutChanged.connect(lambda *_: layouts.append(1))
    bridge.trade_updated.emit([prices(tickets[1], 1.1, 99.0, 0.0)])  # one row moves to the top
    assert [model.ticket_at(r) for r in range(5)] == [tickets[1], tickets[4], tickets[3], tickets[2], tickets[0]]
    assert held.row() == 0 and model.ticket_at(held.row()) == tickets[1], "a held index follows its trade"
    assert layouts == [1]
    bridge.trade_updated.emit([prices(tickets[0], 1.1, 0.5, 0.0)])  # changed, same place: no relayout
    assert layouts == [1]

    new = await buy(ready, "USDJPY")  # no price yet: sorts with "no value", last when descending
    assert model.ticket_at(model.rowCount() - 1) == new
    bridge.trade_updated.emit([prices(new, 1.1, 3.5, 0.0)])
    assert [model.ticket_at(r) for r in range(6)] == [
        tickets[1], tickets[4], new, tickets[3], tickets[2], tickets[0]
    ]  # fmt: skip


def test_insert_position_keeps_either_order() -> None:
    keys = {1: 10, 2: 20, 3: 30, 4: 25}
    assert insert_position([1, 2, 3], keys[4], keys, descending=False) == 2
    assert insert_position([3, 2, 1], keys[4], keys, descending=True) == 1
    assert insert_position([3, 2, 1], 5, keys, descending=True) == 3
    assert insert_position([], 5, keys, descending=True) == 0


@pytest.mark.qasync
async def test_the_filter_is_the_models_own(ready: Services, bridge: EngineBridge, qtbot) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    table = TradeTable(model)
    qtbot.addWidget(table)
    table.sortByColumn(Column.TICKET, Qt.SortOrder.AscendingOrder)
    gbp = [t for t in tickets if ready.engine.trade(t).symbol == "GBPUSD"]
    table.selectionModel().select(
        model.index(model.row_of(gbp[1]), 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    model.set_filter_text("GBP")
    assert [model.ticket_at(r) for r in range(model.rowCount())] == gbp
    assert [model.ticket_at(i.row()) for i in table.selectionModel().selectedRows()] == [gbp[1]], "kept"
    model.set_filter_text(str(tickets[0]))
    assert [model.ticket_at(r) for r in range(model.rowCount())] == [tickets[0]], "found by ticket"
    assert table.selectionModel().selectedRows() == [], "the selected trade is filtered out"
    model.set_filter(TradeFilter(symbols=frozenset({"EURUSD", "USDJPY"})))
    assert sorted(model.ticket_at(r) for r in range(model.rowCount())) == sorted(set(tickets) - set(gbp))
    model.set_filter(TradeFilter(states=frozenset({"WARNING_L2"})))
    assert model.rowCount() == 0
    model.set_filter(TradeFilter(text="healthy", symbols=frozenset({"USDJPY"})))
    assert [model.ticket_at(r) for r in range(model.rowCount())] == [tickets[2]]

    model.set_filter(TradeFilter(text="usd"))
    bridge.trade_updated.emit([prices(t, 1.1, 1.0, 0.1) for t in tickets])
    assert model.rowCount() == 5, "live prices never take a row in or out"
    model.set_filter(TradeFilter(text="eurusd"))
    added = await buy(ready, "EURUSD")
    await buy(ready, "GBPUSD")
    assert model.ticket_at(model.rowCount() - 1) == added and model.rowCount() == 3, "a new trade is filtered"
    model.set_filter(TradeFilter())
    assert model.rowCount() == 7


@pytest.mark.qasync
async def test_a_score_moved_by_a_deep_check_is_shown_at_the_next_cycle(ready: Services, bridge: EngineBridge) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    signalled = Signalled(model)
    trade = ready.engine.trade(tickets[3])
    trade.score = -3.25  # what a deep check does, with no event: the trade is written with the next flush
    row = model.row_of(tickets[3])
    assert model.data(model.index(row, Column.SCORE)) == "-3.25", "painted from the engine"
    bridge.cycle.emit({})
    assert signalled.blocks == [(row, row, Column.SCORE, Column.SCORE)]
    model.sort(Column.SCORE, Qt.SortOrder.AscendingOrder)
    assert model.ticket_at(0) == tickets[3]
    ready.engine.trade(tickets[1]).score = -9.0
    bridge.cycle.emit({})
    assert [model.ticket_at(r) for r in range(2)] == [tickets[1], tickets[3]], "sorted again by score"
    ready.engine.trade(tickets[0]).score = -20.0
    ready.engine.trade(tickets[2]).score = -10.0
    bridge.cycle.emit({"scored": (tickets[2],)})  # the cycle scored only this one: only its score is read
    assert [model.ticket_at(r) for r in range(2)] == [tickets[2], tickets[1]]
    bridge.cycle.emit({"scored": (tickets[0],)})
    assert [model.ticket_at(r) for r in range(3)] == [tickets[0], tickets[2], tickets[1]]


@pytest.mark.qasync
async def test_rows_moving_out_of_view_move_without_a_relayout_and_keep_the_selection(
    ready: Services, bridge: EngineBridge, qtbot
) -> None:
    tickets = await five_trades(ready)
    model = TradesModel(bridge)
    table = await table_showing(model, qtbot, rows=2)
    bridge.trade_updated.emit([prices(t, 1.1, 100.0 - i, 0.0) for i, t in enumerate(tickets)])
    table.sortByColumn(Column.PROFIT, Qt.SortOrder.DescendingOrder)
    assert [model.ticket_at(r) for r in range(5)] == tickets
    first, last = table.rows_in_view()
    assert last < 3
    table.setAutoScroll(False)  # the selected row stays below the screen
    table.selectRow(4)
    assert table.rows_in_view() == (first, last)
    layouts: list[int] = []
    model.layoutChanged.connect(lambda *_: layouts.append(1))
    bridge.trade_updated.emit([prices(tickets[4], 1.1, 97.5, 0.0)])  # from the bottom to just below the screen
    assert [model.ticket_at(r) for r in range(5)] == [tickets[0], tickets[1], tickets[2], tickets[4], tickets[3]]
    assert layouts == [], "nothing on screen moved: no relayout"
    assert [model.ticket_at(i.row()) for i in table.selectionModel().selectedRows()] == [tickets[4]]
    assert model.ticket_at(table.currentIndex().row()) == tickets[4], "the current index followed its trade"
    bridge.trade_updated.emit([prices(tickets[3], 1.1, 200.0, 0.0)])  # onto the screen: a relayout
    assert layouts == [1] and model.ticket_at(0) == tickets[3]
    assert [model.ticket_at(i.row()) for i in table.selectionModel().selectedRows()] == [tickets[4]]


@pytest.mark.qasync
async def test_the_detail_pane_keeps_its_trades_values_when_an_update_leaves_it_out(
    ready: Services, bridge: EngineBridge
) -> None:
    from app.views.detail import DetailPane

    from .conftest import until

    ticket, other = await buy(ready, "EURUSD"), await buy(ready, "GBPUSD")
    pane = DetailPane(bridge)
    pane.select(ticket)
    await until(lambda: pane.trade is not None)
    bridge.trade_updated.emit([prices(ticket, 1.1, 12.34, 0.5)])
    assert "+12.34" in pane.figures.text()
    bridge.trade_updated.emit([prices(other, 1.2, 1.0, 0.1)])
    assert "+12.34" in pane.figures.text() and "+0.50&nbsp;R" in pane.figures.text(), "unchanged: its values hold"
    await pane.close_tasks()
