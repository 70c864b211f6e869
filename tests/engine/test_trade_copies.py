"""The copies a decision works on: every field copied, the live trade untouched until the commit."""

from __future__ import annotations

from dataclasses import fields

from app.engine.model import DefensiveState, Direction, Trade, TradeSource
from app.engine.recorder import clone, staged


def _every_field_set() -> Trade:
    return Trade(
        ticket=7,
        symbol="XAUUSD",
        direction=Direction.SELL,
        entry=2400.5,
        volume=0.3,
        sl=2410.0,
        tp=2380.0,
        magic=42,
        comment="grid",
        opened_at=1.0,
        sent={"sl": 2410.0},
        managed_by="bot",
        strategy_type="grid",
        source=TradeSource.ADOPTED,
        registered_at=2.0,
        initial_sl=2410.0,
        initial_volume=0.3,
        r=9.5,
        synthetic_r=True,
        breakeven_triggered=True,
        partial_taken=True,
        best_price=2390.0,
        last_sl_change_at=3.0,
        state=DefensiveState.WARNING_L2,
        state_since=4.0,
        score=-4.5,
        score_explanation="structure -3",
        warnings=2,
        last_warning_at=5.0,
        flat_timer_until=6.0,
        recovery_timer_until=7.0,
        hedge_ticket=8,
        closed_volume=0.1,
        pending_action="CLOSE",
        last_evaluated_at=9.0,
        last_deep_check_at=10.0,
        last_forced_check_at=11.0,
        last_action="TIGHTEN",
        last_action_at=12.0,
        dtms_paused=True,
        active=False,
        closed_at=13.0,
        close_price=2395.0,
        close_profit=15.0,
        close_reason="stop loss",
        cannot={"WARNING_L2:PARTIAL_CLOSE": "below the minimum volume"},
    )


def test_a_clone_has_every_field_of_the_trade_and_is_another_object() -> None:
    trade = _every_field_set()
    defaults = Trade(ticket=1, symbol="EURUSD", direction=Direction.BUY, entry=1.0, volume=0.01, sl=0.0, tp=0.0)
    assert all(getattr(trade, f.name) != getattr(defaults, f.name) for f in fields(Trade)), "a field left at default"
    copy = clone(trade)
    assert copy is not trade
    assert copy == trade
    copy.score = 1.0
    assert trade.score == -4.5


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
