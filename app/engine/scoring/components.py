"""The six scoring components, each a pure function of a symbol's analysis and the trade's direction.

Rules are written for a BUY; a SELL mirrors them: ``d`` is +1 for a BUY and -1 for a SELL, slopes and
changes are multiplied by ``d`` (so "rising" means "moving with the trade") and RSI levels become 100 - level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

from app.engine.model import Direction
from app.engine.scoring.analysis import SymbolAnalysis
from app.engine.scoring.vocab import ComponentName, Volatility


@dataclass(frozen=True, slots=True, kw_only=True)
class StructureFlags:
    """What the state machine reads from structure: breaks with or against the trade, change of character."""

    bos_in_favour: bool = False
    bos_against: bool = False
    choch_against: bool = False
    choch_depth_pct: float = math.nan  # how far the close went past the change-of-character level


@dataclass(frozen=True, slots=True)
class Part:
    """One rule that fired: a short label, its raw score, and the figures behind it."""

    label: str
    raw: float
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.label} [{self.detail}]" if self.detail else self.label


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """A component's rules that fired, or why it could not be judged."""

    available: bool = True
    parts: tuple[Part, ...] = ()
    note: str = ""
    flags: StructureFlags = field(default_factory=StructureFlags)
    vwap_flip_against: bool = False

    @property
    def raw(self) -> float:
        return sum((part.raw for part in self.parts), 0.0)


def _sign(direction: Direction) -> int:
    return 1 if direction is Direction.BUY else -1


def _pct(value: float) -> str:
    return f"{value:.2f} %"


def structure_flags(a: SymbolAnalysis, direction: Direction) -> StructureFlags:
    """Breaks by the last closed M15 close: ``bos_*`` past the 10-bar extremes by 0.03 %, ``choch_against`` past
    the 15-bar extreme on the trade's losing side by 0.25 % (figures are the defaults)."""
    rules = a.settings.structure
    bos_margin = rules.bos_margin_pct / 100.0
    choch_margin = rules.choch_margin_pct / 100.0
    broke_up = a.close > a.bos_high * (1.0 + bos_margin)
    broke_down = a.close < a.bos_low * (1.0 - bos_margin)
    if direction is Direction.BUY:
        level = a.choch_low
        choch = a.close < level * (1.0 - choch_margin)
        return StructureFlags(
            bos_in_favour=broke_up,
            bos_against=broke_down,
            choch_against=choch,
            choch_depth_pct=(level - a.close) / level * 100.0 if choch else math.nan,
        )
    level = a.choch_high
    choch = a.close > level * (1.0 + choch_margin)
    return StructureFlags(
        bos_in_favour=broke_down,
        bos_against=broke_up,
        choch_against=choch,
        choch_depth_pct=(a.close - level) / level * 100.0 if choch else math.nan,
    )


def structure(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    """Last closed M15 close past the extremes of the bars before it; a change of character also breaks
    structure against the trade and is reported as the stronger of the two."""
    rules = a.settings.structure
    if math.isnan(a.bos_high):
        return Evaluation(available=False, note=f"fewer than {rules.bos_lookback_bars + 1} closed M15 bars")
    flags = structure_flags(a, direction)
    high_word, low_word = ("high", "low") if direction is Direction.BUY else ("low", "high")
    if flags.choch_against:
        detail = f"close {_pct(flags.choch_depth_pct)} past the {rules.choch_lookback_bars}-bar {low_word}"
        return Evaluation(parts=(Part("change of character against", -rules.choch_score, detail),), flags=flags)
    if flags.bos_against:
        detail = f"close past the {rules.bos_lookback_bars}-bar {low_word} by {_pct(rules.bos_margin_pct)}"
        return Evaluation(parts=(Part("break of structure against", -rules.bos_score, detail),), flags=flags)
    if flags.bos_in_favour:
        detail = f"close past the {rules.bos_lookback_bars}-bar {high_word} by {_pct(rules.bos_margin_pct)}"
        return Evaluation(parts=(Part("break of structure in favour", rules.bos_score, detail),), flags=flags)
    return Evaluation(flags=flags)


def vwap_volume(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    """VWAP flip (slope steep enough, closes mostly on one side) plus the opposite side's share of volume."""
    rules = a.settings.vwap
    d = _sign(direction)
    state = a.vwap
    parts: list[Part] = []
    notes: list[str] = []
    flip_against = False
    flip_known = not math.isnan(state.slope) and bool(state.recent_sides)
    if flip_known:
        wrong = sum(1 for side in state.recent_sides if side == -d)
        right = sum(1 for side in state.recent_sides if side == d)
        steep = abs(state.slope) >= state.threshold
        where = f"slope {state.slope * 100:+.3f} %, threshold {state.threshold * 100:.3f} %"
        if steep and wrong >= rules.wrong_side_min:
            flip_against = True
            side = "below" if d > 0 else "above"
            detail = f"{where}, {wrong} of {len(state.recent_sides)} closes {side}"
            parts.append(Part("VWAP flip against", rules.flip_against_score, detail))
        elif steep and right >= rules.wrong_side_min:
            parts.append(Part("VWAP flip in favour", rules.flip_favour_score, where))
    else:
        notes.append("VWAP slope n/a (start of day or too few M5 bars)")
    share_known = not math.isnan(a.buy_volume)
    if share_known:
        opposite_volume = a.sell_volume if d > 0 else a.buy_volume
        opposite = round(100.0 * opposite_volume / (a.buy_volume + a.sell_volume), 9)
        text = f"{'sell' if d > 0 else 'buy'} volume {opposite:.0f} %"
        detail = f"last {rules.volume_window_bars} M5 bars"
        if opposite > rules.opposite_share_strong_pct:
            parts.append(Part(text, rules.opposite_share_strong_score, detail))
        elif opposite > rules.opposite_share_mild_pct:
            parts.append(Part(text, rules.opposite_share_mild_score, detail))
        elif opposite < rules.opposite_share_low_pct:
            parts.append(Part(text, rules.opposite_share_low_score, detail))
    else:
        notes.append(f"volume share n/a ({a.flow_note})")
    return Evaluation(
        available=flip_known or share_known,
        parts=tuple(parts),
        note="; ".join(notes),
        vwap_flip_against=flip_against,
    )


def momentum(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    """RSI level and direction (first matching rule of weak / stretched / strong) plus a MACD histogram run."""
    rules = a.settings.momentum
    d = _sign(direction)
    parts: list[Part] = []
    notes: list[str] = []
    if a.rsi:
        previous, current = a.rsi if d > 0 else tuple(100.0 - v for v in a.rsi)
        weak = rules.rsi_weak_below_low_volatility if a.regime.volatility is Volatility.LOW else rules.rsi_weak_below
        value = a.rsi[-1]

        def level(x: float) -> str:
            return f"{x:g}" if d > 0 else f"{100.0 - x:g}"

        down, up = ("falling below", "rising above") if d > 0 else ("rising above", "falling below")
        detail = f"RSI {a.rsi[0]:.1f} -> {value:.1f}"
        if current < weak and current < previous:
            parts.append(Part(f"RSI {down} {level(weak)}", rules.rsi_weak_score, detail))
        elif current > rules.rsi_stretched_above and current > previous:
            parts.append(Part(f"RSI {up} {level(rules.rsi_stretched_above)}", rules.rsi_stretched_score, detail))
        elif current > rules.rsi_strong_above and current > previous:
            parts.append(Part(f"RSI {up} {level(rules.rsi_strong_above)}", rules.rsi_strong_score, detail))
    else:
        notes.append("RSI n/a (too few M15 bars)")
    if a.macd_histogram:
        values = a.macd_histogram
        steps = [d * (later - earlier) for earlier, later in pairwise(values)]
        run = rules.macd_run_bars
        if all(step > 0 for step in steps):
            word = "rising" if d > 0 else "falling"
            parts.append(Part(f"MACD histogram {word} {run} bars", rules.macd_score))
        elif all(step < 0 for step in steps):
            word = "falling" if d > 0 else "rising"
            parts.append(Part(f"MACD histogram {word} {run} bars", -rules.macd_score))
    else:
        notes.append("MACD n/a (too few M15 bars)")
    return Evaluation(available=bool(a.rsi or a.macd_histogram), parts=tuple(parts), note="; ".join(notes))


def ema_alignment(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    """Both EMAs sloping against the trade -1.5; only the fast one against -1; both with it +1.

    (A fast EMA with the trade over a slow one against it is a turn still unconfirmed: 0.)
    """
    rules = a.settings.ema
    if math.isnan(a.ema_slow_slope) or math.isnan(a.ema_fast_slope):
        return Evaluation(available=False, note=f"fewer than {rules.slow_period + rules.slope_bars} closed M15 bars")
    d = _sign(direction)
    fast, slow = d * a.ema_fast_slope, d * a.ema_slow_slope
    against, with_ = ("falling", "rising") if d > 0 else ("rising", "falling")
    names = f"EMA{rules.fast_period} and EMA{rules.slow_period}"
    detail = f"slopes over {rules.slope_bars} M15 bars {a.ema_fast_slope:+.4%} and {a.ema_slow_slope:+.4%}"
    if fast < 0 and slow < 0:
        return Evaluation(parts=(Part(f"{names} both {against}", rules.both_against_score, detail),))
    if fast < 0:
        return Evaluation(parts=(Part(f"EMA{rules.fast_period} {against}", rules.fast_against_score, detail),))
    if fast > 0 and slow > 0:
        return Evaluation(parts=(Part(f"{names} both {with_}", rules.both_with_score, detail),))
    return Evaluation()


def order_flow_delta(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    rules = a.settings.delta
    if math.isnan(a.delta_z):
        return Evaluation(available=False, note=a.flow_note)
    z = _sign(direction) * a.delta_z
    if z < -rules.z_threshold:
        return Evaluation(parts=(Part("order-flow delta against", -rules.score, f"z {a.delta_z:+.2f}"),))
    if z > rules.z_threshold:
        return Evaluation(parts=(Part("order-flow delta in favour", rules.score, f"z {a.delta_z:+.2f}"),))
    return Evaluation()


def candle_conviction(a: SymbolAnalysis, direction: Direction) -> Evaluation:
    """A strong last M5 bar against the trade scores, more so when it closed through VWAP; one with the trade
    scores nothing."""
    rules = a.settings.candle
    if a.candle is None:
        return Evaluation(available=False, note="no closed M5 bar")
    open_, high, low, close = a.candle
    span = high - low
    if span <= 0.0 or abs(close - open_) / span * 100.0 < rules.body_pct:
        return Evaluation()
    d = _sign(direction)
    if (close - open_) * d > 0:
        return Evaluation(note="strong bar with the trade")
    vwap = a.vwap.vwap
    crossed = not math.isnan(vwap) and (open_ - vwap) * d >= 0.0 and (close - vwap) * d < 0.0
    body = f"body {abs(close - open_) / span * 100.0:.0f} % of range"
    if crossed:
        return Evaluation(parts=(Part("strong bar against, closed through VWAP", rules.through_vwap_score, body),))
    return Evaluation(parts=(Part("strong bar against", rules.against_score, body),))


RULES = {
    ComponentName.STRUCTURE: structure,
    ComponentName.VWAP: vwap_volume,
    ComponentName.MOMENTUM: momentum,
    ComponentName.EMA: ema_alignment,
    ComponentName.DELTA: order_flow_delta,
    ComponentName.CANDLE: candle_conviction,
}
