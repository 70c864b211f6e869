"""Everything the scorer needs from one symbol's bars and ticks, computed once per bar close.

Indicators depend on the symbol, never on the trade, so the engine computes one :class:`SymbolAnalysis`
per symbol and closed bar and scores every trade on that symbol from it (see ``score_trade_with``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.engine.indicators import atr, ema, macd, rsi, session_ids, session_vwap, vwap_slope
from app.engine.model import Direction
from app.engine.regime import Regime, classify_regime, regime_weights, vwap_threshold
from app.engine.scoring.flow import TradeFlow
from app.engine.scoring.settings import ScoringSettings
from app.engine.scoring.vocab import ComponentName

logger = logging.getLogger(__name__)

M5_SECONDS = 300
M15_SECONDS = 900
# Changes are kept relative to price and rounded to this many places: far finer than any market move, and
# coarse enough that a flat market's rounding noise (1e-16 of price) reads as no change at all.
_RELATIVE_PLACES = 12


def closed_bars(bars: np.ndarray, period_s: int, now: float) -> np.ndarray:
    """The bars that have closed by ``now`` (drops the forming bar the terminal returns last)."""
    count = int(np.searchsorted(bars["time"] + period_s, now, side="right"))
    return bars[:count]


def _last(values: np.ndarray, count: int) -> tuple[float, ...]:
    """The last ``count`` values, oldest first; empty when any of them is missing."""
    tail = values[-count:] if count else values[:0]
    if len(tail) < count or np.isnan(tail).any():
        return ()
    return tuple(float(v) for v in tail)


@dataclass(frozen=True, slots=True, kw_only=True)
class VwapState:
    """What the fast cycle needs to ask for an early deep check: VWAP, its slope and threshold, and on
    which side of VWAP the last closed M5 bars closed (-1 below, +1 above, 0 on it; oldest first)."""

    vwap: float
    slope: float
    threshold: float
    recent_sides: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolAnalysis:
    """One symbol's market facts at its last closed bars. NaN or empty means not enough data."""

    symbol: str
    now: float
    settings: ScoringSettings
    m5_time: int | None  # open time of the last closed M5 bar
    m15_time: int | None
    regime: Regime
    weights: Mapping[ComponentName, float]
    atr: float  # ATR on M15 (also what synthetic R and trailing use)
    # structure (M15)
    close: float
    bos_high: float
    bos_low: float
    choch_high: float
    choch_low: float
    # VWAP (M5)
    vwap: VwapState
    # momentum (M15)
    rsi: tuple[float, ...]  # last two values
    macd_histogram: tuple[float, ...]  # last macd_run_bars + 1 values, relative to the last close
    # EMA alignment (M15): change over slope_bars, relative to the last close
    ema_fast_slope: float
    ema_slow_slope: float
    # order flow (ticks); NaN when unavailable, with the reason
    has_trade_flags: bool
    buy_volume: float  # traded over the volume window
    sell_volume: float
    delta_z: float
    flow_note: str
    # candle conviction (last closed M5 bar)
    candle: tuple[float, float, float, float] | None  # open, high, low, close
    # each direction's verdict, kept by the scorer once worked out (see ``scoring.verdict``)
    verdicts: dict[Direction, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        """Identity of the data behind this analysis: the symbol and its last closed M5 and M15 bars."""
        return (self.symbol, self.m5_time, self.m15_time)

    @classmethod
    def compute(
        cls,
        m5: np.ndarray,
        m15: np.ndarray,
        ticks: np.ndarray | None,
        symbol: str,
        now: float,
        settings: ScoringSettings,
        has_trade_flags: bool = False,
    ) -> SymbolAnalysis:
        """Analyse bars and ticks as the terminal returns them (oldest first, forming bar allowed).

        ``now`` is terminal time; only bars closed by then and ticks of closed M5 bars are used.
        """
        m5 = closed_bars(m5, M5_SECONDS, now)[-settings.m5_bars :]
        m15 = closed_bars(m15, M15_SECONDS, now)[-settings.m15_bars :]
        offset = settings.regime.server_utc_offset_s
        regime = classify_regime(m15, now - offset, settings)

        s_rules = settings.structure
        high, low, close = m15["high"], m15["low"], m15["close"]
        bos_high = bos_low = choch_high = choch_low = math.nan
        if len(m15) > s_rules.bos_lookback_bars:
            bos_high = float(high[-s_rules.bos_lookback_bars - 1 : -1].max())
            bos_low = float(low[-s_rules.bos_lookback_bars - 1 : -1].min())
        if len(m15) > s_rules.choch_lookback_bars:
            choch_high = float(high[-s_rules.choch_lookback_bars - 1 : -1].max())
            choch_low = float(low[-s_rules.choch_lookback_bars - 1 : -1].min())

        m_rules = settings.momentum
        histogram = macd(close, m_rules.macd_fast, m_rules.macd_slow, m_rules.macd_signal)[2]
        scale = float(close[-1]) if len(m15) else math.nan
        e_rules = settings.ema
        atr_values = atr(high, low, close, settings.regime.atr_period)
        buy_volume, sell_volume, delta_z, flow_note = _flow(ticks, now, has_trade_flags, settings)

        return cls(
            symbol=symbol,
            now=now,
            settings=settings,
            m5_time=int(m5["time"][-1]) if len(m5) else None,
            m15_time=int(m15["time"][-1]) if len(m15) else None,
            regime=regime,
            weights=regime_weights(regime, settings),
            atr=float(atr_values[-1]) if len(m15) else math.nan,
            close=float(close[-1]) if len(m15) else math.nan,
            bos_high=bos_high,
            bos_low=bos_low,
            choch_high=choch_high,
            choch_low=choch_low,
            vwap=_vwap_state(m5, symbol, regime, settings),
            rsi=_last(rsi(close, m_rules.rsi_period), 2),
            macd_histogram=_last(np.round(histogram / scale, _RELATIVE_PLACES), m_rules.macd_run_bars + 1),
            ema_fast_slope=_slope(ema(close, e_rules.fast_period), e_rules.slope_bars, scale),
            ema_slow_slope=_slope(ema(close, e_rules.slow_period), e_rules.slope_bars, scale),
            has_trade_flags=has_trade_flags,
            buy_volume=buy_volume,
            sell_volume=sell_volume,
            delta_z=delta_z,
            flow_note=flow_note,
            candle=(
                (float(m5["open"][-1]), float(m5["high"][-1]), float(m5["low"][-1]), float(m5["close"][-1]))
                if len(m5)
                else None
            ),
        )


def _slope(values: np.ndarray, bars: int, scale: float) -> float:
    if len(values) <= bars:
        return math.nan
    return round(float(values[-1] - values[-1 - bars]) / scale, _RELATIVE_PLACES)


def _vwap_state(m5: np.ndarray, symbol: str, regime: Regime, settings: ScoringSettings) -> VwapState:
    rules = settings.vwap
    offset = settings.regime.server_utc_offset_s
    vwap = session_vwap(m5, offset)
    slope = vwap_slope(vwap, rules.slope_bars, session_ids(m5["time"], offset))
    count = min(rules.slope_bars, len(m5))
    closes, levels = m5["close"][len(m5) - count :], vwap[len(m5) - count :]
    sides = tuple(int(s) for s in np.sign(closes - levels) if not math.isnan(s))
    return VwapState(
        vwap=float(vwap[-1]) if len(m5) else math.nan,
        slope=float(slope[-1]) if len(m5) else math.nan,
        threshold=vwap_threshold(symbol, regime, settings),
        recent_sides=sides if len(sides) == count else (),
    )


def _flow(
    ticks: np.ndarray | None, now: float, has_trade_flags: bool, settings: ScoringSettings
) -> tuple[float, float, float, str]:
    """Buy and sell volume over the volume window and the delta z-score; NaN with a note without order flow."""
    if not has_trade_flags:
        return math.nan, math.nan, math.nan, "no trade flags for this symbol"
    if ticks is None or len(ticks) == 0:
        return math.nan, math.nan, math.nan, "no ticks"
    lookback = settings.delta.lookback_bars
    bars = max(lookback, settings.vwap.volume_window_bars)
    end_s = int(now) - int(now) % M5_SECONDS
    flow = TradeFlow.from_ticks(ticks, end_s=end_s, bar_s=M5_SECONDS, bars=bars)
    recent = TradeFlow(buy=flow.buy[-lookback:], sell=flow.sell[-lookback:])
    delta_z, note = recent.delta_z(settings.delta.min_active_bars)
    buy_volume, sell_volume = flow.volumes(settings.vwap.volume_window_bars)
    if buy_volume + sell_volume <= 0.0:
        buy_volume = sell_volume = math.nan
        note = note or "no trades"
    return buy_volume, sell_volume, delta_z, note
