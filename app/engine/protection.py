"""Profit protection (DTMS_SPEC.md §2.1): what the fast cycle should do for one trade, decided purely.

``plan_protection`` reads a trade, the current prices, the symbol's rules and ATR, and returns the
intents in order; the engine carries them out through the executor. Every SL intent obeys the SL rules:
never backwards (never riskier), never a change smaller than ``min_sl_change_r`` x R, at least
``min_sl_interval_s`` between two changes of one trade, rounded to the symbol's digits, outside the stops
level, and nothing at all inside the freeze level.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.broker import SymbolRules
from app.engine.model import ActionKind, Direction, Trade
from app.engine.prices import price_text
from app.engine.quiet import EDGE_R, FOR_GOOD, INF, Quiet
from app.engine.settings import ProtectionSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveStop:
    kind: ActionKind  # BREAKEVEN or TRAIL
    sl: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TakePartial:
    volume: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipPartial:
    """The partial take is due but cannot be done (what stays would be below volume_min)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkBreakeven:
    """Breakeven is due but the SL is already there or better: record it, send nothing."""

    reason: str


Intent = MoveStop | TakePartial | SkipPartial | MarkBreakeven


def is_better_sl(direction: Direction, new: float, current: float) -> bool:
    """True if ``new`` risks less than ``current`` (0.0 means no SL, the riskiest of all)."""
    if current == 0.0:
        return new != 0.0
    return new > current if direction is Direction.BUY else new < current


def beats_best_price(trade: Trade, bid: float, ask: float) -> bool:
    """True if the closing price is better than the best since breakeven (or there is none yet)."""
    if not trade.breakeven_triggered:
        return False
    price = trade.closing_price(bid, ask)
    best = trade.best_price
    return best is None or (price > best if trade.direction is Direction.BUY else price < best)


def update_best_price(trade: Trade, bid: float, ask: float) -> bool:
    """Track the best closing price since breakeven (for trailing); returns True if it changed."""
    if not beats_best_price(trade, bid, ask):
        return False
    trade.best_price = trade.closing_price(bid, ask)
    return True


def plan_protection(
    trade: Trade,
    *,
    bid: float,
    ask: float,
    rules: SymbolRules,
    atr: float | None,
    now: float,
    settings: ProtectionSettings,
) -> list[Intent]:
    if trade.r <= 0 or not trade.active:
        return []
    if rules.frozen(trade.direction, trade.sl, trade.tp, bid, ask):
        return []  # nothing may change inside the freeze level; the next cycle looks again
    intents: list[Intent] = []
    profit_r = trade.profit_in_r(bid, ask) + 1e-9  # a price exactly at a threshold reaches it
    sign = 1.0 if trade.direction is Direction.BUY else -1.0

    stop: MoveStop | None = None
    if not trade.breakeven_triggered and profit_r >= settings.breakeven_r:
        target = rules.round_price(trade.entry + sign * settings.breakeven_lock_r * trade.r)
        if not is_better_sl(trade.direction, target, trade.sl) or _too_small(trade, target, settings):
            intents.append(MarkBreakeven(reason=f"profit {profit_r:.2f} R; SL already at or past breakeven"))
        else:
            stop = MoveStop(
                kind=ActionKind.BREAKEVEN, sl=target, reason=f"profit {profit_r:.2f} R >= {settings.breakeven_r:g} R"
            )
    elif trade.breakeven_triggered and atr is not None and atr > 0 and trade.best_price is not None:
        target = rules.round_price(trade.best_price - sign * settings.trail_atr_multiple * atr)
        if is_better_sl(trade.direction, target, trade.sl) and not _too_small(trade, target, settings):
            stop = MoveStop(
                kind=ActionKind.TRAIL,
                sl=target,
                reason=f"trailing {settings.trail_atr_multiple:g} x ATR behind "
                f"{price_text(trade.best_price, rules.digits)}",
            )

    if stop is not None and _interval_passed(trade, now, settings):
        allowed = rules.clamp_sl(trade.direction, stop.sl, bid, ask)
        if is_better_sl(trade.direction, allowed, trade.sl) and not _too_small(trade, allowed, settings):
            note = "" if allowed == stop.sl else f" (held at {price_text(allowed, rules.digits)} by the stops level)"
            intents.append(MoveStop(kind=stop.kind, sl=allowed, reason=stop.reason + note))

    if not trade.partial_taken and profit_r >= settings.partial_r:
        volume = rules.round_volume_down(trade.volume * settings.partial_fraction)
        remaining = trade.volume - volume
        if volume < rules.volume_min or remaining < rules.volume_min - 1e-9:
            intents.append(
                SkipPartial(
                    reason=f"partial take skipped: {volume:g} of {trade.volume:g} lots leaves less than "
                    f"the minimum {rules.volume_min:g}"
                )
            )
        else:
            intents.append(TakePartial(volume=volume, reason=f"profit {profit_r:.2f} R >= {settings.partial_r:g} R"))
    return intents


def protection_quiet(
    trade: Trade,
    *,
    bid: float,
    ask: float,
    rules: SymbolRules,
    atr: float | None,
    now: float,
    settings: ProtectionSettings,
) -> Quiet | None:
    """How long profit protection has nothing to do for the trade as it is (None: look again next cycle).

    With nothing planned at these prices: before breakeven nothing happens below the first of the breakeven and
    partial thresholds; after it, nothing until the price passes the best price (which moves the trailing stop)
    or the partial threshold, or until the SL interval allows a trailing stop that is already due."""
    if trade.r <= 0 or not trade.active:
        return FOR_GOOD
    if rules.frozen(trade.direction, trade.sl, trade.tp, bid, ask):
        return None  # the freeze level moves with the price
    if beats_best_price(trade, bid, ask) or plan_protection(
        trade, bid=bid, ask=ask, rules=rules, atr=atr, now=now, settings=settings
    ):
        return None  # due now (or held back by a cool-down after a failure)
    high = settings.partial_r if not trade.partial_taken else INF
    if not trade.breakeven_triggered:
        return Quiet(high=min(high, settings.breakeven_r) - EDGE_R)
    if trade.best_price is None:
        return None
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    high = min(high, sign * (trade.best_price - trade.entry) / trade.r)
    wake = INF
    if atr is not None and atr > 0:
        target = rules.round_price(trade.best_price - sign * settings.trail_atr_multiple * atr)
        if is_better_sl(trade.direction, target, trade.sl) and not _too_small(trade, target, settings):
            if _interval_passed(trade, now, settings) or trade.last_sl_change_at is None:
                return None  # held at the stops level, which moves with the price
            wake = trade.last_sl_change_at + settings.min_sl_interval_s
    return Quiet(high=high - EDGE_R, wake=wake)


def _too_small(trade: Trade, new_sl: float, settings: ProtectionSettings) -> bool:
    if trade.sl == 0.0:
        return False
    return abs(new_sl - trade.sl) < settings.min_sl_change_r * trade.r - 1e-12


def _interval_passed(trade: Trade, now: float, settings: ProtectionSettings) -> bool:
    return trade.last_sl_change_at is None or now - trade.last_sl_change_at >= settings.min_sl_interval_s
