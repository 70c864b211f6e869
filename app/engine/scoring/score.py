"""Scoring a trade against the market (DTMS spec section 3) and the fast cycle's early-check signal.

Scoring is split so the engine can share work across trades: :meth:`SymbolAnalysis.compute` runs the
indicators once per symbol and closed bar, and :func:`score_trade_with` scores one trade from it in a few
microseconds. :func:`score_trade` does both for a single trade.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from app.engine.model import Direction
from app.engine.regime import Regime
from app.engine.scoring.analysis import SymbolAnalysis, VwapState
from app.engine.scoring.components import RULES, Part, StructureFlags
from app.engine.scoring.settings import ScoringSettings
from app.engine.scoring.vocab import ComponentName, Confluence

logger = logging.getLogger(__name__)

__all__ = [
    "Component",
    "Confluence",
    "Part",
    "Score",
    "ScoringSettings",
    "SymbolAnalysis",
    "Verdict",
    "VwapState",
    "early_check_wanted",
    "score_trade",
    "score_trade_with",
    "verdict",
]

_PLACES = 6  # weighted scores are rounded so sums land exactly on thresholds such as -2 or -4


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One component's verdict: ``weighted = raw x weight`` (the weight already adapted to the regime)."""

    name: ComponentName
    raw: float
    weight: float
    weighted: float
    available: bool
    reason: str
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """A trade's score at one deep check, with the facts the state machine acts on."""

    symbol: str
    direction: Direction
    components: tuple[Component, ...]
    total: float
    confluence: Confluence
    regime: Regime
    bos_in_favour: bool
    bos_against: bool
    choch_against: bool
    vwap_flip_against: bool
    vwap: float
    vwap_slope: float
    vwap_threshold: float
    price: float  # the trade's closing price: bid for a BUY, ask for a SELL
    explanation: str

    def component(self, name: ComponentName) -> Component:
        return next(c for c in self.components if c.name is name)


def confluence_of(weighted: list[float], settings: ScoringSettings) -> Confluence:
    """FAVOUR or AGAINST when that side holds at least ``confluence_pct`` of the weighted evidence."""
    favour = sum(w for w in weighted if w > 0.0)
    against = -sum(w for w in weighted if w < 0.0)
    total = favour + against
    if total <= 0.0:
        return Confluence.MIXED
    if favour * 100.0 >= settings.confluence_pct * total:
        return Confluence.FAVOUR
    if against * 100.0 >= settings.confluence_pct * total:
        return Confluence.AGAINST
    return Confluence.MIXED


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The part of a score that depends only on the symbol's analysis and the direction, so every trade on
    that symbol and side shares it: components, total, confluence, flags and the explanation around the price."""

    components: tuple[Component, ...]
    total: float
    confluence: Confluence
    flags: StructureFlags
    vwap_flip_against: bool
    head: str  # "-4.5 AGAINST: VWAP flip against (-2 x 2.0), ..."
    tail: str  # "; regime LONDON/NORMAL/TREND; n/a: ..."
    #: the whole explanation by the text of where the price is: one string for every trade scored at that price
    #: (a trade keeps its explanation; 10,000 trades held one copy each)
    explanations: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def verdict(analysis: SymbolAnalysis, direction: Direction) -> Verdict:
    """The analysis's verdict for a direction, worked out on first use and kept with the analysis."""
    known = analysis.verdicts.get(direction)
    if known is not None:
        return known
    components: list[Component] = []
    flags = StructureFlags()
    flip_against = False
    for name, rule in RULES.items():
        evaluation = rule(analysis, direction)
        weight = analysis.weights[name]
        raw = evaluation.raw
        reasons = [str(part) for part in evaluation.parts]
        if evaluation.note:
            reasons.append(evaluation.note)
        components.append(
            Component(
                name=name,
                raw=raw,
                weight=weight,
                weighted=round(raw * weight, _PLACES),
                available=evaluation.available,
                reason="; ".join(reasons) or "no rule fired",
                parts=evaluation.parts,
            )
        )
        if name is ComponentName.STRUCTURE:
            flags = evaluation.flags
        elif name is ComponentName.VWAP:
            flip_against = evaluation.vwap_flip_against
    weighted = [c.weighted for c in components]
    total = round(sum(weighted), _PLACES)
    confluence = confluence_of(weighted, analysis.settings)
    fired = [(part, c.weight) for c in components for part in c.parts if part.raw]
    fired.sort(key=lambda item: -abs(item[0].raw * item[1]))
    listed = ", ".join(f"{p.label} ({p.raw:g} x {_number(w)})" for p, w in fired) or "no rule fired"
    missing = [c.name.display_name for c in components if not c.available]
    result = Verdict(
        components=tuple(components),
        total=total,
        confluence=confluence,
        flags=flags,
        vwap_flip_against=flip_against,
        head=f"{total:+.1f} {confluence}: {listed}",
        tail=f"; regime {analysis.regime}" + (f"; n/a: {', '.join(missing)}" if missing else ""),
    )
    analysis.verdicts[direction] = result
    return result


def score_trade_with(analysis: SymbolAnalysis, direction: Direction, *, bid: float, ask: float) -> Score:
    """Score one trade from its symbol's shared analysis (microseconds once the direction's verdict exists)."""
    judged = verdict(analysis, direction)
    price = bid if direction is Direction.BUY else ask
    vwap = analysis.vwap.vwap
    where = ""
    if not math.isnan(vwap) and vwap > 0.0:
        distance = (price - vwap) / vwap * 100.0
        where = f"; price {abs(distance):.2f} % {'above' if distance >= 0 else 'below'} VWAP"
    return Score(
        symbol=analysis.symbol,
        direction=direction,
        components=judged.components,
        total=judged.total,
        confluence=judged.confluence,
        regime=analysis.regime,
        bos_in_favour=judged.flags.bos_in_favour,
        bos_against=judged.flags.bos_against,
        choch_against=judged.flags.choch_against,
        vwap_flip_against=judged.vwap_flip_against,
        vwap=vwap,
        vwap_slope=analysis.vwap.slope,
        vwap_threshold=analysis.vwap.threshold,
        price=price,
        explanation=_explanation(judged, where),
    )


def _explanation(judged: Verdict, where: str) -> str:
    text = judged.explanations.get(where)
    if text is None:
        text = judged.explanations[where] = judged.head + where + judged.tail
    return text


def score_trade(
    *,
    direction: Direction,
    m5: np.ndarray,
    m15: np.ndarray,
    ticks: np.ndarray | None,
    bid: float,
    ask: float,
    symbol: str,
    now: float,
    settings: ScoringSettings,
    has_trade_flags: bool,
) -> Score:
    """Analyse the symbol and score one trade (for many trades on a symbol, share the analysis)."""
    analysis = SymbolAnalysis.compute(m5, m15, ticks, symbol, now, settings, has_trade_flags)
    return score_trade_with(analysis, direction, bid=bid, ask=ask)


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def early_check_wanted(
    direction: Direction, entry: float, price: float, vwap_state: VwapState, settings: ScoringSettings
) -> bool:
    """The fast cycle's reason to run a deep check before the next bar close.

    True when price has moved more than ``early_check_move_pct`` from entry (either way), or when the VWAP
    slope is at or past its threshold and price was on the wrong side of VWAP at least ``wrong_side_min``
    times over the last ``slope_bars`` observations: the latest closed M5 bars plus the live price.
    """
    if entry > 0.0 and abs(price - entry) / entry * 100.0 > settings.early_check_move_pct:
        return True
    if math.isnan(vwap_state.slope) or math.isnan(vwap_state.vwap):
        return False
    if abs(vwap_state.slope) < vwap_state.threshold:
        return False
    earlier = settings.vwap.slope_bars - 1
    sides = list(vwap_state.recent_sides[-earlier:] if earlier > 0 else ())
    sides.append(int(np.sign(price - vwap_state.vwap)))
    wrong = -1 if direction is Direction.BUY else 1
    return sum(1 for side in sides if side == wrong) >= settings.vwap.wrong_side_min
