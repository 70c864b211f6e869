"""Reading one symbol's history: bars of any timeframe and ticks, as the MT5 copy_* functions answer."""

from __future__ import annotations

import logging

import numpy as np

from app.terminal.constants import (
    COPY_TICKS_ALL,
    COPY_TICKS_INFO,
    COPY_TICKS_TRADE,
    TICK_FLAG_ASK,
    TICK_FLAG_BID,
    TICK_FLAG_BUY,
    TICK_FLAG_LAST,
    TICK_FLAG_SELL,
    TICK_FLAG_VOLUME,
)
from app.terminal.sim.market.state import SymbolState, ticks_of_bars
from app.terminal.sim.market.timeframes import check_timeframe
from app.terminal.structs import TICKS_DTYPE

logger = logging.getLogger(__name__)

_INFO_BITS = TICK_FLAG_BID | TICK_FLAG_ASK
_TRADE_BITS = TICK_FLAG_LAST | TICK_FLAG_VOLUME | TICK_FLAG_BUY | TICK_FLAG_SELL
#: Ticks synthesised per step while looking for ``count`` ticks (minutes).
_SYNTH_CHUNK_MINUTES = 1440


def flag_bits(flags: int) -> int | None:
    """The tick flags a COPY_TICKS_* value selects (None: every tick)."""
    if flags == COPY_TICKS_ALL or flags == COPY_TICKS_INFO | COPY_TICKS_TRADE:
        return None
    if flags == COPY_TICKS_INFO:
        return _INFO_BITS
    if flags == COPY_TICKS_TRADE:
        return _TRADE_BITS
    raise ValueError(f"unknown COPY_TICKS flags {flags!r}")


def _select(ticks: np.ndarray, bits: int | None) -> np.ndarray:
    return ticks if bits is None else ticks[(ticks["flags"] & bits) != 0]


def rates_from_pos(st: SymbolState, timeframe: int, start_pos: int, count: int) -> np.ndarray:
    """``count`` bars ending ``start_pos`` bars before the forming one (0), oldest first."""
    check_timeframe(timeframe)
    _check_non_negative(start_pos=start_pos, count=count)
    return st.series.rates_from_pos(timeframe, int(start_pos), int(count))


def rates_from(st: SymbolState, timeframe: int, date_from: float, count: int) -> np.ndarray:
    """``count`` bars ending with the bar open at ``date_from`` (epoch seconds), oldest first."""
    check_timeframe(timeframe)
    _check_non_negative(count=count)
    return st.series.rates_from(timeframe, float(date_from), int(count))


def rates_range(st: SymbolState, timeframe: int, date_from: float, date_to: float) -> np.ndarray:
    """Bars opening within ``[date_from, date_to]``, oldest first."""
    check_timeframe(timeframe)
    return st.series.rates_range(timeframe, float(date_from), float(date_to))


def ticks_range(st: SymbolState, date_from: float, date_to: float, flags: int) -> np.ndarray:
    """Ticks with ``date_from <= time <= date_to`` (seconds, millisecond precision), oldest first."""
    bits = flag_bits(flags)
    lo, hi = int(np.floor(date_from * 1000.0)), int(np.floor(date_to * 1000.0))
    if hi < lo:
        return np.empty(0, dtype=TICKS_DTYPE)
    start = st.ticks.start_msc
    parts = []
    if lo < start:
        parts.append(_select(synthesised(st, lo, min(hi, start - 1)), bits))
    if hi >= start:
        parts.append(_select(st.ticks.between(max(lo, start), hi), bits))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def ticks_from(st: SymbolState, date_from: float, count: int, flags: int) -> np.ndarray:
    """The first ``count`` ticks at or after ``date_from``, oldest first."""
    bits = flag_bits(flags)
    _check_non_negative(count=count)
    lo = int(np.floor(date_from * 1000.0))
    start = st.ticks.start_msc
    parts, got = [], 0
    minute = max(lo // 60000, st.series.first_minute)
    while got < count and minute * 60000 < start:
        end = min(start // 60000, minute + _SYNTH_CHUNK_MINUTES)
        chunk = _select(synthesised(st, max(lo, minute * 60000), end * 60000 - 1), bits)
        parts.append(chunk[: count - got])
        got += len(parts[-1])
        minute = end
    if got < count:
        live = st.ticks.between(max(lo, start), np.iinfo(np.int64).max)
        parts.append(_select(live, bits)[: count - got])
    return np.concatenate(parts) if parts else np.empty(0, dtype=TICKS_DTYPE)


def synthesised(st: SymbolState, lo: int, hi: int) -> np.ndarray:
    """Ticks of ``[lo, hi]`` (msc) made from the stored M1 bars."""
    first, rows = st.series.slice_minutes(lo // 60000, hi // 60000 + 1)
    if len(rows) == 0:
        return np.empty(0, dtype=TICKS_DTYPE)
    point, digits = st.spec.point, st.spec.digits
    _, before = st.series.slice_minutes(first - 1, first)
    if len(before):
        prev_bid = float(before["close"][0])
        prev_ask = round(prev_bid + float(before["spread"][0]) * point, digits)
    else:
        prev_bid = prev_ask = 0.0
    ticks = ticks_of_bars(st, first, rows, prev_bid=prev_bid, prev_ask=prev_ask, digits=digits, point=point)
    times = ticks["time_msc"]
    return ticks[int(np.searchsorted(times, lo, "left")) : int(np.searchsorted(times, hi, "right"))]


def _check_non_negative(**values: int) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, not {value}")
