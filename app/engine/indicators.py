"""Technical indicators over bar arrays: vectorised numpy, NaN during each indicator's warm-up.

Conventions follow the common definitions (and TA-Lib's): an EMA is seeded with the simple mean of its
first ``period`` values; RSI and ATR use Wilder's smoothing (alpha = 1/period) seeded the same way;
Bollinger bands use the population standard deviation.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SECONDS_PER_DAY = 86_400


def _recurrence(x: np.ndarray, alpha: float, seed: float) -> np.ndarray:
    """``y[0] = seed``, ``y[t] = (1 - alpha) * y[t-1] + alpha * x[t]`` for t >= 1, without a loop per value.

    Within a block of B values the recurrence has the closed form
    ``y[s+j] = w**j * (y[s] + alpha * sum_{i<=j} w**-i * x[s+i])`` with ``w = 1 - alpha``; blocks are sized so
    ``w**-B`` stays far from overflow, and each block starts from the last value of the one before.
    """
    out = np.empty(len(x), dtype=np.float64)
    if len(x) == 0:
        return out
    out[0] = seed
    if alpha >= 1.0:
        out[1:] = x[1:]
        return out
    w = 1.0 - alpha
    block = int(min(1024, max(1, 200 // -math.log10(w))))
    powers = w ** np.arange(1, block + 1, dtype=np.float64)
    inverse = 1.0 / powers
    previous = seed
    for start in range(1, len(x), block):
        chunk = x[start : start + block]
        n = len(chunk)
        partial = np.cumsum(chunk * inverse[:n]) * alpha
        values = powers[:n] * (previous + partial)
        out[start : start + n] = values
        previous = values[-1]
    return out


def _seeded_smoothing(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """Smooth ``values`` with the given alpha, seeded by the mean of the first ``period`` finite values.

    Leading NaNs (an input that has its own warm-up) are skipped; the output is NaN until the seed.
    """
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    finite = np.flatnonzero(~np.isnan(values))
    if len(finite) == 0:
        return out
    first = int(finite[0])
    seed_end = first + period  # exclusive
    if seed_end > len(values):
        return out
    seed = float(values[first:seed_end].mean())
    out[seed_end - 1 :] = _recurrence(values[seed_end - 1 :], alpha, seed)
    return out


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (period + 1), first value at index ``period - 1``."""
    return _seeded_smoothing(values, period, 2.0 / (period + 1.0))


def wilder(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's moving average (alpha = 1 / period), first value at index ``period - 1``."""
    return _seeded_smoothing(values, period, 1.0 / period)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Relative strength index with Wilder smoothing; first value at index ``period``.

    A stretch with neither gains nor losses reads 50 (neutral).
    """
    close = np.asarray(close, dtype=np.float64)
    out = np.full(len(close), np.nan)
    if len(close) <= period:
        return out
    change = np.diff(close)
    gain = wilder(np.maximum(change, 0.0), period)
    loss = wilder(np.maximum(-change, 0.0), period)
    total = gain + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(total > 0.0, 100.0 * gain / total, 50.0)
    value[np.isnan(total)] = np.nan
    out[1:] = value
    return out


def macd(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line (EMA fast - EMA slow), its signal line (EMA of the line) and the histogram (line - signal)."""
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return line, signal_line, line - signal_line


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range; NaN for the first bar, which has no previous close."""
    high = np.asarray(high, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    close = np.asarray(close, dtype=np.float64)
    out = np.full(len(close), np.nan)
    if len(close) > 1:
        previous = close[:-1]
        out[1:] = np.maximum.reduce([high[1:] - low[1:], np.abs(high[1:] - previous), np.abs(low[1:] - previous)])
    return out


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Average true range with Wilder smoothing; first value at index ``period``."""
    return wilder(true_range(high, low, close), period)


def bollinger_width(close: np.ndarray, period: int = 20, k: float = 2.0) -> np.ndarray:
    """Relative Bollinger band width ``(upper - lower) / middle`` with a population standard deviation."""
    close = np.asarray(close, dtype=np.float64)
    out = np.full(len(close), np.nan)
    if len(close) < period:
        return out
    windows = sliding_window_view(close, period)
    middle = windows.mean(axis=1)
    deviation = windows.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[period - 1 :] = 2.0 * k * deviation / middle
    return out


def session_ids(times: np.ndarray, utc_offset_s: int = 0) -> np.ndarray:
    """The UTC day of each bar: ``times`` are terminal seconds, ``utc_offset_s`` is terminal time minus UTC."""
    return (np.asarray(times, dtype=np.int64) - utc_offset_s) // SECONDS_PER_DAY


def session_vwap(bars: np.ndarray, utc_offset_s: int = 0) -> np.ndarray:
    """Volume-weighted average of the typical price (H + L + C) / 3, restarting at every UTC day.

    Volume is ``real_volume`` where a bar has it, else ``tick_volume``. NaN until a day has some volume.
    """
    if len(bars) == 0:
        return np.empty(0)
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3.0
    real = bars["real_volume"].astype(np.float64)
    volume = np.where(real > 0.0, real, bars["tick_volume"].astype(np.float64))
    cum_pv = np.cumsum(typical * volume)
    cum_v = np.cumsum(volume)
    day = session_ids(bars["time"], utc_offset_s)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    # index of the first bar of each bar's day, then the running totals from there
    first = np.repeat(starts, np.diff(np.r_[starts, len(day)]))
    before_pv = np.where(first > 0, cum_pv[first - 1], 0.0)
    before_v = np.where(first > 0, cum_v[first - 1], 0.0)
    day_v = cum_v - before_v
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(day_v > 0.0, (cum_pv - before_pv) / day_v, np.nan)


def vwap_slope(vwap: np.ndarray, n: int = 3, sessions: np.ndarray | None = None) -> np.ndarray:
    """Relative change of VWAP over the last ``n`` bars: ``(vwap[i] - vwap[i-n]) / vwap[i-n]``.

    With ``sessions`` (see :func:`session_ids`) a window that spans a daily reset reads NaN, so the jump
    to a new day's VWAP is not taken for a slope.
    """
    vwap = np.asarray(vwap, dtype=np.float64)
    out = np.full(len(vwap), np.nan)
    if n < 1 or len(vwap) <= n:
        return out
    before = vwap[:-n]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[n:] = (vwap[n:] - before) / before
    if sessions is not None:
        sessions = np.asarray(sessions)
        out[n:][sessions[n:] != sessions[:-n]] = np.nan
    return out
