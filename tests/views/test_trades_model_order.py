"""The trades table sorted by a live column through cycles of partial prices: its order is always the one a full
sort gives, the selection stays on its trade, and a trade that leaves takes only its own row."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import Qt

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.table_view import TradeTable
from app.views.trades_model import Column, TradesModel

from .conftest import register_buy
from .test_trades_model_updates import prices, table_showing

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "EURUSD", "GBPUSD", "USDJPY", "EURUSD", "USDJPY", "GBPUSD")


async def many_trades(ready: Services) -> list[int]:
    return [await register_buy(ready, s, r=0.2 if s == "USDJPY" else 0.002, volume=0.1) for s in SYMBOLS]


def shown(model: TradesModel) -> list[int]:
    return [model.ticket_at(r) for r in range(model.rowCount())]


def full_sort(model: TradesModel, field: str, descending: bool) -> list[int]:
    """The rows as a full sort by ``field`` puts them (every test value distinct; no value sorts first)."""

    def key(ticket: int) -> float:
        live = model.live(ticket)
        value = None if live is None else live[field]
        return float("-inf") if value is None else value

    return sorted(shown(model), key=key, reverse=descending)


def assert_rows_right(model: TradesModel) -> None:
    assert [model.row_of(t) for t in shown(model)] == list(range(model.rowCount()))


@pytest.mark.qasync
@pytest.mark.parametrize(("column", "field"), [(Column.PROFIT, "profit"), (Column.PROFIT_R, "profit_r")])
async def test_after_partial_updates_the_order_equals_a_full_sort(
    ready: Services, bridge: EngineBridge, column: Column, field: str
) -> None:
    tickets = await many_trades(ready)
    model = TradesModel(bridge)
    rng = random.Random(int(column))
    values = iter(rng.sample(range(-5000, 5000), 400))  # distinct, so one order is right
    bridge.trade_updated.emit([prices(t, 1.1, next(values) / 10, next(values) / 100) for t in tickets[:-2]])
    for descending in (True, False):
        model.sort(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        assert shown(model) == full_sort(model, field, descending)
        if descending:
            assert set(shown(model)[-2:]) == set(tickets[-2:]), "no price yet: last when descending"
        for _ in range(12):
            moved = rng.sample(tickets, rng.randint(1, 4))  # a cycle's rows: only the trades that changed
            bridge.trade_updated.emit([prices(t, 1.1, next(values) / 10, next(values) / 100) for t in moved])
            assert shown(model) == full_sort(model, field, descending)
            assert_rows_right(model)
    bridge.trade_updated.emit([{"ticket": tickets[0], field: 999.0}])  # only some fields: merged, then sorted
    assert shown(model)[-1] == tickets[0] and shown(model) == full_sort(model, field, False)


@pytest.mark.qasync
async def test_the_selection_follows_its_trade_across_re_sorts(ready: Services, bridge: EngineBridge, qtbot) -> None:
    tickets = await many_trades(ready)
    model = TradesModel(bridge)
    table = await table_showing(model, qtbot, rows=4, width=700)
    bridge.trade_updated.emit([prices(t, 1.1, float(i), 0.0) for i, t in enumerate(tickets)])
    table.sortByColumn(Column.PROFIT, Qt.SortOrder.DescendingOrder)
    table.setAutoScroll(False)
    chosen = tickets[4]
    table.selectRow(model.row_of(chosen))

    def selected() -> list[int]:
        return [model.ticket_at(i.row()) for i in table.selectionModel().selectedRows()]

    for profit in (100.0, -100.0, 3.5, 7.25, 50.0):  # to the top (on screen), the bottom, between others
        bridge.trade_updated.emit([prices(chosen, 1.1, profit, 0.0), prices(tickets[0], 1.1, profit / 2 + 0.1, 0.0)])
        assert shown(model) == full_sort(model, "profit", True)
        assert selected() == [chosen], f"selection kept at profit {profit}"
        assert model.ticket_at(table.currentIndex().row()) == chosen


@pytest.mark.qasync
async def test_a_trade_that_leaves_takes_only_its_row(ready: Services, bridge: EngineBridge, qtbot) -> None:
    tickets = await many_trades(ready)
    model = TradesModel(bridge)
    table = TradeTable(model)
    qtbot.addWidget(table)
    bridge.trade_updated.emit([prices(t, 1.1, float(10 * i), 0.0) for i, t in enumerate(tickets)])
    table.sortByColumn(Column.PROFIT, Qt.SortOrder.AscendingOrder)
    table.selectRow(model.row_of(tickets[6]))
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))

    bridge.trade_closed.emit({"ticket": tickets[3]})
    bridge.trade_unregistered.emit({"ticket": tickets[0]})
    assert removed == [(3, 3), (0, 0)], "each by its own row"
    left = [t for t in tickets if t not in (tickets[0], tickets[3])]
    assert shown(model) == left and model.row_of(tickets[3]) is None and model.row_of(tickets[0]) is None
    assert_rows_right(model)
    assert [model.ticket_at(i.row()) for i in table.selectionModel().selectedRows()] == [tickets[6]]
    assert model.data(model.index(model.row_of(tickets[6]), Column.PROFIT)) == "60.00"

    bridge.trade_updated.emit([prices(tickets[8], 1.1, -1.0, 0.0), prices(tickets[3], 1.1, 5.0, 0.0)])
    assert shown(model)[0] == tickets[8] and tickets[3] not in shown(model), "a gone trade's price shows no row"
    assert shown(model) == full_sort(model, "profit", False)
    assert_rows_right(model)

    again = await register_buy(ready, "EURUSD", volume=0.1)  # takes a freed slot: no stale key or row
    assert model.row_of(again) == 0 and model.live(again) is None, "no price yet: first when ascending"
    assert_rows_right(model)


@pytest.mark.qasync
async def test_sorted_by_score_the_order_follows_deep_checks_as_a_full_sort(
    ready: Services, bridge: EngineBridge
) -> None:
    tickets = await many_trades(ready)
    model = TradesModel(bridge)
    rng = random.Random(3)
    scores = iter(rng.sample(range(-900, 900), 200))  # distinct, so one order is right

    def by_score(descending: bool) -> list[int]:
        return sorted(tickets, key=lambda t: ready.engine.trade(t).score, reverse=descending)

    for ticket in tickets:
        ready.engine.trade(ticket).score = next(scores) / 100
    for descending in (False, True):
        model.sort(Column.SCORE, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        assert shown(model) == by_score(descending)
        for round_ in range(8):
            checked = rng.sample(tickets, rng.randint(1, 3))
            for ticket in checked:  # what deep checks do, with no event
                ready.engine.trade(ticket).score = next(scores) / 100
            # a cycle names the trades it scored; one that does not say has every score compared
            bridge.cycle.emit({"scored": (*checked, rng.choice(tickets))} if round_ % 2 else {})
            assert shown(model) == by_score(descending)
            assert_rows_right(model)
            assert [model.data(model.index(r, Column.SCORE)) for r in range(len(tickets))] == [
                f"{ready.engine.trade(t).score:+.2f}" for t in by_score(descending)
            ]
    ready.engine.trade(tickets[2]).score = -50.0
    bridge.trade_changed.emit({"ticket": tickets[2]})  # an event of the trade's own: sorted at once
    assert shown(model)[-1] == tickets[2]
