"""The ranges within which the fast cycle does not look at a trade again never hide something to do.

For random trades, prices and times: wherever ``protection_quiet`` says profit protection has nothing to do,
``plan_protection`` plans nothing and the best price does not move; wherever ``early_check_quiet`` says no early
check can be due, ``early_check_wanted`` does not ask for one (or the check's own spacing rules out one)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.broker import SymbolRules
from app.engine.deep_check import early_check_quiet
from app.engine.model import Direction, Trade
from app.engine.protection import plan_protection, protection_quiet, update_best_price
from app.engine.quiet import QuietTrades
from app.engine.registry import SymbolGroup
from app.engine.scoring.analysis import VwapState
from app.engine.scoring.score import early_check_wanted
from app.engine.scoring.settings import ScoringSettings
from app.engine.settings import CycleSettings, ProtectionSettings

ENTRY = 1.10000
RULES = SymbolRules(
    symbol="EURUSD",
    digits=5,
    point=0.00001,
    tick_size=0.00001,
    stops_level=10,
    freeze_level=0,
    volume_min=0.01,
    volume_max=100.0,
    volume_step=0.01,
    filling_mode=1,
)
PROTECTION = ProtectionSettings()
SCORING = ScoringSettings()
CYCLE = CycleSettings()
SPREAD = 0.00010


def profit_r(trade: Trade, price: float) -> float:
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    return sign * (price - trade.entry) / trade.r


def quotes(trade: Trade, closing: float) -> tuple[float, float]:
    """(bid, ask) whose closing price for the trade is ``closing``."""
    return (closing, closing + SPREAD) if trade.direction is Direction.BUY else (closing - SPREAD, closing)


@st.composite
def trades(draw: st.DrawFn) -> Trade:
    direction = draw(st.sampled_from(Direction))
    r = draw(st.sampled_from([0.0005, 0.0010, 0.0020, 0.0050]))
    sign = 1.0 if direction is Direction.BUY else -1.0
    breakeven = draw(st.booleans())
    sl = round(ENTRY - sign * r + (sign * draw(st.floats(0.0, 1.5)) * r if breakeven else 0.0), 5)
    best = round(ENTRY + sign * draw(st.floats(0.0, 4.0)) * r, 5) if breakeven else None
    return Trade(
        ticket=1,
        symbol="EURUSD",
        direction=direction,
        entry=ENTRY,
        volume=draw(st.sampled_from([0.01, 0.1, 1.0])),
        sl=sl,
        tp=0.0,
        r=r,
        breakeven_triggered=breakeven,
        partial_taken=draw(st.booleans()),
        best_price=best,
        last_sl_change_at=draw(st.sampled_from([None, 990.0, 1000.0])),
        last_deep_check_at=draw(st.sampled_from([None, 600.0, 900.0, 1000.0])),
        last_forced_check_at=draw(st.sampled_from([None, 100.0, 700.0])),
    )


@settings(max_examples=400, deadline=None)
@given(
    trade=trades(),
    first=st.floats(-3.0, 5.0),
    then=st.floats(0.0, 1.0),
    later=st.floats(0.0, 120.0),
    atr=st.sampled_from([None, 0.0004, 0.0015]),
)
def test_protection_plans_nothing_inside_its_quiet_range(
    trade: Trade, first: float, then: float, later: float, atr: float | None
) -> None:
    now = 1000.0
    bid, ask = quotes(trade, round(trade.entry + (1 if trade.direction is Direction.BUY else -1) * first * trade.r, 5))
    quiet = protection_quiet(trade, bid=bid, ask=ask, rules=RULES, atr=atr, now=now, settings=PROTECTION)
    if quiet is None:
        return
    low = max(quiet.low, -10.0)
    high = min(quiet.high, 10.0)
    if low >= high:
        return
    wanted_r = low + (high - low) * then
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    closing = trade.entry + sign * wanted_r * trade.r
    if not low < profit_r(trade, closing) < high:
        return
    at = min(now + later, quiet.wake - 1e-6)
    bid, ask = quotes(trade, closing)
    assert not update_best_price(replace(trade), bid, ask)
    assert plan_protection(trade, bid=bid, ask=ask, rules=RULES, atr=atr, now=at, settings=PROTECTION) == []


@settings(max_examples=400, deadline=None)
@given(
    trade=trades(),
    first=st.floats(-0.5, 0.5),
    then=st.floats(0.0, 1.0),
    later=st.floats(0.0, 400.0),
    vwap_offset=st.floats(-0.003, 0.003),
    slope=st.sampled_from([float("nan"), 0.0, 0.5, -0.5]),
    sides=st.lists(st.sampled_from([-1, 0, 1]), min_size=0, max_size=5),
)
def test_no_early_check_is_due_inside_its_quiet_range(
    trade: Trade, first: float, then: float, later: float, vwap_offset: float, slope: float, sides: list[int]
) -> None:
    now = 1000.0
    vwap = VwapState(vwap=ENTRY + vwap_offset, slope=slope, threshold=0.1, recent_sides=tuple(sides))
    price = round(trade.entry * (1 + first / 100.0), 5)
    quiet = early_check_quiet(trade, price, vwap, now, CYCLE, SCORING)
    if quiet is None:
        return
    at = min(now + later, quiet.wake - 1e-6)
    low, high = max(quiet.low, -1e3), min(quiet.high, 1e3)
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    closing = trade.entry + sign * (low + (high - low) * then) * trade.r
    if not low < profit_r(trade, closing) < high:
        return
    cooled = trade.last_forced_check_at is None or at - trade.last_forced_check_at >= CYCLE.forced_cooldown_s
    checked = trade.last_deep_check_at
    new_bars = checked is None or at - at % 300 > checked - checked % 300
    if cooled and new_bars:
        assert not early_check_wanted(trade.direction, trade.entry, closing, vwap, SCORING)


def test_only_trades_outside_their_range_or_changed_are_due() -> None:
    quiet = QuietTrades()
    group = SymbolGroup(
        {
            t: Trade(
                ticket=t,
                symbol="EURUSD",
                direction=Direction.BUY,
                entry=ENTRY,
                volume=0.1,
                sl=ENTRY - 0.001,
                tp=0.0,
                r=0.001,
            )
            for t in (1, 2, 3)
        },
        generation=1,
    )
    first = quiet.due("EURUSD", group, ENTRY, ENTRY + SPREAD, now=0.0)
    assert [t.ticket for t in first] == [1, 2, 3], "never looked at: all due"
    for trade in first:
        quiet.quiet(
            trade,
            protection_quiet(trade, bid=ENTRY, ask=ENTRY + SPREAD, rules=RULES, atr=None, now=0.0, settings=PROTECTION),
        )
    assert quiet.due("EURUSD", group, ENTRY + 0.0005, ENTRY + 0.0006, now=1.0) == []
    quiet.forget(2, "EURUSD")  # a decision changed it
    assert [t.ticket for t in quiet.due("EURUSD", group, ENTRY, ENTRY + SPREAD, now=2.0)] == [2]
    near = ENTRY + PROTECTION.breakeven_r * 0.001
    assert [t.ticket for t in quiet.due("EURUSD", group, near, near + SPREAD, now=3.0)] == [1, 2, 3]
    group.trades[4] = Trade(
        ticket=4, symbol="EURUSD", direction=Direction.BUY, entry=ENTRY, volume=0.1, sl=0.0, tp=0.0, r=0.001
    )
    group.generation = 2
    due = quiet.due("EURUSD", group, ENTRY, ENTRY + SPREAD, now=4.0)
    assert [t.ticket for t in due] == [2, 4], "a new trade is due; the others keep their ranges"
    del group.trades[1]  # a trade left (closed): the others keep their ranges
    group.generation = 3
    assert [t.ticket for t in quiet.due("EURUSD", group, ENTRY, ENTRY + SPREAD, now=5.0)] == [2, 4]
    quiet.quiet(group.trades[2], None)
