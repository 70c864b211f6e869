"""A symbol's columns after trades left keep the rows of the trades that stayed, and only those."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace

from app.engine.trade_columns import TradeColumns
from tests.store.conftest import _make_trade


def test_the_rows_kept_after_trades_left_are_theirs_for_every_reader() -> None:
    trades = {n: _make_trade(n) for n in range(1, 9)}
    old = TradeColumns(trades)
    stayed = TradeColumns({n: t for n, t in trades.items() if n % 3})
    for _ in range(3):  # every reader of the new columns asks about the same old ones
        kept = stayed.kept_rows(old)
        assert kept is not None and [old.tickets[row] for row in kept.tolist()] == stayed.tickets

    other = TradeColumns({n: t for n, t in trades.items() if n != 6})
    kept = stayed.kept_rows(other)  # a different old set: its own answer, not the last one
    assert kept is not None and [other.tickets[row] for row in kept.tolist()] == stayed.tickets
    assert kept.tolist() != stayed.kept_rows(old).tolist()


def test_a_trade_replaced_by_another_object_is_not_kept() -> None:
    trades = {n: _make_trade(n) for n in range(1, 5)}
    old = TradeColumns(trades)
    changed = TradeColumns({1: trades[1], 2: replace(trades[2]), 4: trades[4]})
    assert changed.kept_rows(old) is None
    assert changed.kept_rows(old) is None
    joined = TradeColumns({**trades, 9: _make_trade(9)})
    assert joined.kept_rows(old) is None


def test_columns_do_not_keep_the_generations_before_them_alive() -> None:
    """Each change of a symbol's trades makes new columns, which its readers compare with the last ones: were the
    older ones held by the newer, every generation would stay in memory for as long as the desk runs."""
    trades = {n: _make_trade(n) for n in range(1, 9)}
    generations = [TradeColumns(trades)]
    for gone in range(1, 5):
        newer = TradeColumns({n: t for n, t in trades.items() if n > gone})
        assert newer.kept_rows(generations[-1]) is not None
        generations.append(newer)
    older = [weakref.ref(columns) for columns in generations[:-1]]
    newest = generations[-1]
    del generations, newer
    gc.collect()
    assert [ref() for ref in older] == [None] * 4, "only the newest columns are still referred to"
    assert len(newest) == 4


def _same_columns(a: TradeColumns, b: TradeColumns) -> bool:
    return (
        a.tickets == b.tickets
        and all(x is y for x, y in zip(a.trades, b.trades, strict=True))
        and a.ticket_array.tolist() == b.ticket_array.tolist()
        and a.entry.tolist() == b.entry.tolist()
        and a.sign.tolist() == b.sign.tolist()
        and a.r.tolist() == b.r.tolist()
        and a.position == b.position
    )


def test_columns_made_from_the_generation_before_are_the_columns_of_their_trades() -> None:
    """After trades left, the columns are cut from the ones before; after one joined or was replaced, they are read
    from the trades: either way they are what columns made from the trades alone would be."""
    trades = {n: replace(_make_trade(n), entry=1.0 + n / 100, r=0.001 * n) for n in range(1, 13)}
    before = TradeColumns(trades)
    stayed = {n: t for n, t in trades.items() if n % 4}
    cut = TradeColumns(stayed, before)
    assert _same_columns(cut, TradeColumns(stayed))
    assert cut.kept_rows(before) is not None  # already known to every reader asking about the same columns

    joined = {**stayed, 20: replace(_make_trade(20), entry=2.5, r=0.02)}
    assert _same_columns(TradeColumns(joined, cut), TradeColumns(joined))
    replaced = {**stayed, 5: replace(stayed[5], entry=9.0)}
    assert _same_columns(TradeColumns(replaced, cut), TradeColumns(replaced))
    assert _same_columns(TradeColumns({}, cut), TradeColumns({}))
