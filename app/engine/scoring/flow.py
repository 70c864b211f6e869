"""Traded volume by side from tick flags: the volume share and the order-flow delta z-score.

Only ticks that carry exactly one of TICK_FLAG_BUY / TICK_FLAG_SELL count; a symbol whose ticks have no
real trade flags (most forex feeds) has no order flow, and the caller says so with ``has_trade_flags``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.terminal.constants import TICK_FLAG_BUY, TICK_FLAG_SELL


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeFlow:
    """Buy and sell volume per bar over a window of closed bars (oldest first)."""

    buy: np.ndarray
    sell: np.ndarray

    @classmethod
    def from_ticks(cls, ticks: np.ndarray, *, end_s: int, bar_s: int, bars: int) -> TradeFlow:
        """Bucket ticks into the ``bars`` bars of ``bar_s`` seconds that end at ``end_s`` (exclusive)."""
        start_ms = (end_s - bars * bar_s) * 1000
        time_ms = ticks["time_msc"].astype(np.int64)
        flags = ticks["flags"].astype(np.int64)
        is_buy = (flags & TICK_FLAG_BUY) != 0
        is_sell = (flags & TICK_FLAG_SELL) != 0
        inside = (time_ms >= start_ms) & (time_ms < end_s * 1000) & (is_buy != is_sell)
        volume = np.where(ticks["volume_real"] > 0.0, ticks["volume_real"], ticks["volume"].astype(np.float64))
        volume = np.where(volume > 0.0, volume, 1.0)[inside]
        bucket = (time_ms[inside] - start_ms) // (bar_s * 1000)
        buy = np.bincount(bucket, weights=np.where(is_buy[inside], volume, 0.0), minlength=bars)
        sell = np.bincount(bucket, weights=np.where(is_sell[inside], volume, 0.0), minlength=bars)
        return cls(buy=buy[:bars], sell=sell[:bars])

    def volumes(self, last_bars: int) -> tuple[float, float]:
        """Buy and sell volume over the last ``last_bars`` bars."""
        return float(self.buy[-last_bars:].sum()), float(self.sell[-last_bars:].sum())

    def delta_z(self, min_active_bars: int) -> tuple[float, str]:
        """Z-score of the last bar's delta against the earlier bars that traded, with why when NaN."""
        delta = self.buy - self.sell
        active = (self.buy + self.sell) > 0.0
        if len(delta) == 0 or not active[-1]:
            return math.nan, "no trades in the last bar"
        baseline = delta[:-1][active[:-1]]
        if len(baseline) + 1 < min_active_bars:
            return math.nan, f"trades in {len(baseline) + 1} bars, {min_active_bars} needed"
        spread = float(baseline.std())
        if spread == 0.0:
            return math.nan, "delta has not varied"
        return (float(delta[-1]) - float(baseline.mean())) / spread, ""
