"""The defensive state machine as a pure function: every row of DTMS_SPEC.md §2.2, both ways, for BUY and SELL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.engine.defense.rules import (
    Decision,
    DefenseAction,
    DefenseSettings,
    decayed_warnings,
    decide,
)
from app.engine.defense.rules import (
    DefenseActionKind as K,
)
from app.engine.model import DefensiveState as S
from app.engine.model import Direction, Trade
from app.engine.regime import Regime
from app.engine.scoring.score import Score
from app.engine.scoring.vocab import Confluence, MarketStructure, Session, Volatility
from app.errors import InvalidSettings

NOW = 1_772_618_400.0
SETTINGS = DefenseSettings()
R = 0.0020


def make_trade(direction: Direction = Direction.BUY, state: S = S.HEALTHY, **fields) -> Trade:
    entry = 1.1000
    sl = entry - R if direction is Direction.BUY else entry + R
    values = dict(
        ticket=7,
        symbol="EURUSD",
        direction=direction,
        entry=entry,
        volume=1.0,
        sl=sl,
        tp=0.0,
        initial_sl=sl,
        initial_volume=1.0,
        r=R,
        state=state,
    )
    values.update(fields)
    return Trade(**values)


def make_score(total: float, direction: Direction = Direction.BUY, *, price: float = 1.0995, **flags) -> Score:
    values = dict(
        symbol="EURUSD",
        direction=direction,
        components=(),
        total=total,
        confluence=Confluence.MIXED,
        regime=Regime(session=Session.LONDON, volatility=Volatility.NORMAL, structure=MarketStructure.TREND),
        bos_in_favour=False,
        bos_against=False,
        choch_against=False,
        vwap_flip_against=False,
        vwap=1.1,
        vwap_slope=0.0,
        vwap_threshold=0.0005,
        price=price,
        explanation="test",
    )
    values.update(flags)
    return Score(**values)


def run(trade: Trade, score: Score, now: float = NOW, **kw) -> Decision | None:
    kw.setdefault("hedging_account", True)
    return decide(trade, score, now, SETTINGS, **kw)


def kinds(decision: Decision) -> list[K]:
    return [a.kind for a in decision.actions]


# --- HEALTHY <-> WARNING_L1 ---------------------------------------------------------------------------


def test_healthy_stays_above_minus_two() -> None:
    assert run(make_trade(), make_score(-1.9)) is None


def test_healthy_to_l1_tightens_to_point_three_r_behind_price_and_starts_the_flat_timer() -> None:
    d = run(make_trade(), make_score(-2.0, price=1.0995))
    assert (d.from_state, d.to_state) == (S.HEALTHY, S.WARNING_L1)
    assert d.actions == (DefenseAction(kind=K.TIGHTEN, sl=pytest.approx(1.0995 - 0.3 * R)),)
    assert d.flat_timer_until == NOW + 75 * 60
    assert d.warnings == 1 and d.last_warning_at == NOW
    assert d.id == f"7:HEALTHY>WARNING_L1@{NOW:.0f}"


def test_healthy_to_l1_for_a_sell_tightens_above_price() -> None:
    trade = make_trade(Direction.SELL)
    d = run(trade, make_score(-3, Direction.SELL, price=1.1004))
    assert d.to_state is S.WARNING_L1
    assert d.actions[0].kind is K.TIGHTEN and d.actions[0].sl == pytest.approx(1.1004 + 0.3 * R)


def test_tighten_is_left_out_when_the_sl_is_already_tighter() -> None:
    trade = make_trade(sl=1.0994)  # BUY: 1.0995 - 0.0006 = 1.0989 would be looser
    d = run(trade, make_score(-2.5, price=1.0995))
    assert d.to_state is S.WARNING_L1 and d.actions == ()
    assert "already tighter" in d.reason


def test_l1_back_to_healthy_at_zero_stops_the_flat_timer() -> None:
    trade = make_trade(state=S.WARNING_L1, flat_timer_until=NOW + 100)
    assert run(trade, make_score(-0.1)) is None
    d = run(trade, make_score(0.0))
    assert (d.from_state, d.to_state) == (S.WARNING_L1, S.HEALTHY)
    assert d.actions == () and d.flat_timer_until is None


# --- WARNING_L1 <-> WARNING_L2 -----------------------------------------------------------------------


def test_l1_to_l2_in_profit_closes_half_and_moves_sl_to_breakeven() -> None:
    trade = make_trade(state=S.WARNING_L1, volume=0.8, flat_timer_until=NOW + 10)
    assert run(trade, make_score(-3.9, price=1.1005)) is None
    d = run(trade, make_score(-4.0, price=1.1005))
    assert d.to_state is S.WARNING_L2
    assert d.actions == (
        DefenseAction(kind=K.PARTIAL_CLOSE, volume=0.4),
        DefenseAction(kind=K.MOVE_SL_BREAKEVEN, sl=trade.entry),
    )
    assert d.flat_timer_until == NOW + 10  # the timer started at WARNING_L1 keeps running


def test_l1_to_l2_in_loss_closes_half_and_leaves_the_sl_saying_why() -> None:
    trade = make_trade(state=S.WARNING_L1, volume=0.8)
    d = run(trade, make_score(-4.0, price=1.0995))  # under water: an SL at entry would be above the bid
    assert d.to_state is S.WARNING_L2 and d.actions == (DefenseAction(kind=K.PARTIAL_CLOSE, volume=0.4),)
    assert "in loss" in d.reason and "cannot go to breakeven" in d.reason


def test_l1_to_l2_in_loss_can_tighten_instead() -> None:
    settings = DefenseSettings(l2_in_loss="tighten")
    trade = make_trade(state=S.WARNING_L1, volume=0.8)
    d = decide(trade, make_score(-4.0, price=1.0995), NOW, settings, hedging_account=True)
    assert kinds(d) == [K.PARTIAL_CLOSE, K.TIGHTEN]
    assert d.actions[1].sl == pytest.approx(1.0995 - 0.3 * R) and "instead of to breakeven" in d.reason
    with pytest.raises(InvalidSettings):
        DefenseSettings(l2_in_loss="later")


def test_l1_to_l2_for_a_sell() -> None:
    trade = make_trade(Direction.SELL, state=S.WARNING_L1)
    d = run(trade, make_score(-5, Direction.SELL, price=1.0990))
    assert kinds(d) == [K.PARTIAL_CLOSE, K.MOVE_SL_BREAKEVEN] and d.actions[1].sl == trade.entry
    assert kinds(run(trade, make_score(-5, Direction.SELL, price=1.1010))) == [K.PARTIAL_CLOSE]


def test_breakeven_left_out_when_the_sl_is_already_past_entry() -> None:
    trade = make_trade(state=S.WARNING_L1, sl=1.1005)
    assert kinds(run(trade, make_score(-4.5, price=1.1010))) == [K.PARTIAL_CLOSE]


def test_l2_back_to_l1_at_minus_two_without_actions() -> None:
    trade = make_trade(state=S.WARNING_L2)
    assert run(trade, make_score(-2.1)) is None
    d = run(trade, make_score(-2.0))
    assert (d.from_state, d.to_state, d.actions) == (S.WARNING_L2, S.WARNING_L1, ())


# --- WARNING_L2 -> HEDGED ------------------------------------------------------------------------------


def test_l2_to_hedged_opens_half_the_volume_opposite_with_sl_half_an_atr_away() -> None:
    trade = make_trade(state=S.WARNING_L2, volume=0.5)
    assert run(trade, make_score(-5.9), atr=0.004) is None
    d = run(trade, make_score(-6.0, price=1.0980), atr=0.004)
    assert d.to_state is S.HEDGED
    assert d.actions == (DefenseAction(kind=K.HEDGE, volume=0.25, sl=pytest.approx(1.0980 + 0.002)),)
    assert d.flat_timer_until == NOW + 75 * 60


def test_sell_hedge_sl_is_below_price() -> None:
    trade = make_trade(Direction.SELL, state=S.WARNING_L2)
    d = run(trade, make_score(-7, Direction.SELL, price=1.1020), atr=0.004)
    assert d.actions[0].kind is K.HEDGE and d.actions[0].sl == pytest.approx(1.1020 - 0.002)


def test_l2_to_hedged_on_vwap_flip_with_confluence_against() -> None:
    trade = make_trade(state=S.WARNING_L2)
    assert run(trade, make_score(-3, vwap_flip_against=True, confluence=Confluence.MIXED)) is None
    assert run(trade, make_score(-3, vwap_flip_against=False, confluence=Confluence.AGAINST)) is None
    d = run(trade, make_score(-3, vwap_flip_against=True, confluence=Confluence.AGAINST), atr=0.004)
    assert d.to_state is S.HEDGED and kinds(d) == [K.HEDGE] and "VWAP flip" in d.reason


def test_hedge_sl_falls_back_to_r_without_atr() -> None:
    d = run(make_trade(state=S.WARNING_L2), make_score(-6.5, price=1.0980), atr=None)
    assert d.actions[0].sl == pytest.approx(1.0980 + 0.5 * R)


def test_netting_account_closes_half_and_tightens_instead_of_hedging() -> None:
    trade = make_trade(state=S.WARNING_L2, volume=0.5, sl=1.1000)
    d = run(trade, make_score(-6.0, price=1.1020), hedging_account=False)
    assert d.to_state is S.HEDGED
    assert d.actions == (
        DefenseAction(kind=K.PARTIAL_CLOSE, volume=0.25),
        DefenseAction(kind=K.TIGHTEN, sl=pytest.approx(1.1020 - 0.3 * R)),
    )
    assert "netting account" in d.reason and d.flat_timer_until == NOW + 75 * 60


def test_a_tripped_rail_turns_the_hedge_into_the_netting_alternative() -> None:
    d = run(make_trade(state=S.WARNING_L2), make_score(-8), risk_block="daily_loss: loss 2.5 %")
    assert d.to_state is S.HEDGED and K.HEDGE not in kinds(d) and K.PARTIAL_CLOSE in kinds(d)
    assert "daily_loss" in d.reason


# --- HEDGED -> CLOSED / RECOVERING -----------------------------------------------------------------------


def test_hedged_closes_everything_when_the_flat_timer_expires() -> None:
    trade = make_trade(state=S.HEDGED, hedge_ticket=99, flat_timer_until=NOW + 60)
    assert run(trade, make_score(-1), now=NOW + 59) is None
    d = run(trade, make_score(-1), now=NOW + 60)
    assert (d.to_state, kinds(d)) == (S.CLOSED, [K.CLOSE_ALL])
    assert d.flat_timer_until is None


def test_hedged_to_recovering_on_a_break_of_structure_in_favour_closes_the_hedge() -> None:
    trade = make_trade(state=S.HEDGED, hedge_ticket=99, flat_timer_until=NOW + 600)
    assert run(trade, make_score(3, bos_against=True)) is None
    d = run(trade, make_score(3, bos_in_favour=True))
    assert (d.to_state, kinds(d)) == (S.RECOVERING, [K.CLOSE_HEDGE])
    assert d.recovery_timer_until == NOW + 30 * 60 and d.flat_timer_until is None


def test_hedged_on_netting_recovers_without_a_hedge_to_close() -> None:
    trade = make_trade(state=S.HEDGED, hedge_ticket=None, flat_timer_until=NOW + 600)
    d = run(trade, make_score(0, bos_in_favour=True))
    assert d.to_state is S.RECOVERING and d.actions == ()


# --- RECOVERING -> HEALTHY / CLOSED ---------------------------------------------------------------------


def test_recovering_waits_for_its_timer() -> None:
    trade = make_trade(state=S.RECOVERING, recovery_timer_until=NOW + 1, closed_volume=0.5)
    assert run(trade, make_score(5)) is None


def test_recovering_to_healthy_re_adds_half_the_closed_volume() -> None:
    trade = make_trade(state=S.RECOVERING, recovery_timer_until=NOW, closed_volume=0.6, sl=1.0990)
    d = run(trade, make_score(1.0))
    assert d.to_state is S.HEALTHY and d.recovery_timer_until is None
    assert d.actions == (DefenseAction(kind=K.READD, volume=pytest.approx(0.3), sl=1.0990),)


def test_recovering_to_healthy_without_re_add_when_a_rail_is_tripped() -> None:
    trade = make_trade(state=S.RECOVERING, recovery_timer_until=NOW, closed_volume=0.6)
    d = run(trade, make_score(2), risk_block="spread: wide")
    assert d.to_state is S.HEALTHY and d.actions == () and "spread" in d.reason


def test_recovering_closes_when_the_score_is_below_plus_one_at_expiry() -> None:
    trade = make_trade(state=S.RECOVERING, recovery_timer_until=NOW, closed_volume=0.6)
    d = run(trade, make_score(0.9))
    assert (d.to_state, kinds(d)) == (S.CLOSED, [K.CLOSE_ALL])


# --- any -> CLOSED ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.HEALTHY, S.WARNING_L1, S.WARNING_L2, S.HEDGED, S.RECOVERING])
@pytest.mark.parametrize("direction", [Direction.BUY, Direction.SELL])
def test_change_of_character_against_closes_from_any_state(state: S, direction: Direction) -> None:
    trade = make_trade(direction, state=state, flat_timer_until=NOW + 10, recovery_timer_until=NOW + 10)
    d = run(trade, make_score(4, direction, choch_against=True))
    assert (d.from_state, d.to_state, kinds(d)) == (state, S.CLOSED, [K.CLOSE_ALL])
    assert d.flat_timer_until is None and d.recovery_timer_until is None


def test_a_closed_trade_still_open_is_closed_again() -> None:
    d = run(make_trade(state=S.CLOSED), make_score(0))
    assert (d.from_state, d.to_state, kinds(d)) == (S.CLOSED, S.CLOSED, [K.CLOSE_ALL])


def test_one_step_per_check() -> None:
    d = run(make_trade(), make_score(-9))
    assert d.to_state is S.WARNING_L1


# --- warnings, settings, persistence ------------------------------------------------------------------------


def test_warning_counter_decays_one_per_thirty_minutes() -> None:
    trade = make_trade(warnings=3, last_warning_at=NOW)
    assert decayed_warnings(trade, NOW + 29 * 60, SETTINGS) == (3, NOW)
    assert decayed_warnings(trade, NOW + 30 * 60, SETTINGS) == (2, NOW + 30 * 60)
    assert decayed_warnings(trade, NOW + 65 * 60, SETTINGS) == (1, NOW + 60 * 60)
    assert decayed_warnings(trade, NOW + 10 * 3600, SETTINGS) == (0, None)


def test_a_transition_carries_the_decayed_counter_plus_the_new_warning() -> None:
    trade = make_trade(warnings=2, last_warning_at=NOW - 31 * 60)
    d = run(trade, make_score(-3))
    assert d.warnings == 2 and d.last_warning_at == NOW  # 2 - 1 decayed + 1 new


def test_decision_round_trips_through_a_dict() -> None:
    d = run(make_trade(state=S.WARNING_L2), make_score(-7), atr=0.003)
    assert Decision.from_dict(d.as_dict()) == d


def test_settings_defaults_and_validation() -> None:
    s = DefenseSettings()
    assert (s.warning_l1_score, s.warning_l2_score, s.hedge_score) == (-2, -4, -6)
    assert (s.healthy_again_score, s.l1_again_score, s.readd_min_score) == (0, -2, 1)
    assert (s.tighten_r, s.close_fraction, s.hedge_fraction, s.hedge_sl_atr, s.readd_fraction) == (
        0.3,
        0.5,
        0.5,
        0.5,
        0.5,
    )
    assert (s.flat_timer_s, s.recovery_timer_s, s.warning_decay_s) == (4500, 1800, 1800)
    with pytest.raises(InvalidSettings):
        replace(s, hedge_score=-3)
    with pytest.raises(InvalidSettings):
        replace(s, healthy_again_score=-3)
    with pytest.raises(InvalidSettings):
        replace(s, close_fraction=0)
