"""The copies a decision works on: every field copied, the live trade untouched until the commit."""

from __future__ import annotations

from dataclasses import fields

from app.engine.model import DefensiveState, Direction, Trade
from app.engine.recorder import clone, staged
from tests.store.test_store_trades import every_field_set


def test_a_clone_has_every_field_of_the_trade_and_is_another_object() -> None:
    trade = every_field_set(7)
    defaults = Trade(ticket=1, symbol="EURUSD", direction=Direction.BUY, entry=1.0, volume=0.01, sl=0.0, tp=0.0)
    assert all(getattr(trade, f.name) != getattr(defaults, f.name) for f in fields(Trade)), "a field left at default"
    copy = clone(trade)
    assert copy is not trade
    assert copy == trade
    copy.score = 1.0
    assert trade.score == -3.75


def test_a_staged_decision_reaches_the_live_trade_only_when_committed() -> None:
    trade = Trade(ticket=1, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=0.1, sl=1.09, tp=1.2)
    stage = staged(trade)
    stage.work.state = DefensiveState.WARNING_L1
    stage.work.sl = 1.095
    assert trade.state is DefensiveState.HEALTHY and trade.sl == 1.09
    assert stage.changed() == frozenset({"state", "sl"})
    trade.dtms_paused = True  # changed elsewhere meanwhile: kept by the merge
    row = stage.merged()
    assert (row.state, row.sl, row.dtms_paused) == (DefensiveState.WARNING_L1, 1.095, True)
    stage.committed(row)
    assert trade == row and stage.work == row and stage.base == row
    assert stage.base is not row and stage.work is not trade
    assert stage.changed() == frozenset()
