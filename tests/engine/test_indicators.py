"""Indicator values against TA-Lib, and the session VWAP against a plain loop written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.indicators import (
    atr,
    bollinger_width,
    ema,
    macd,
    rsi,
    session_ids,
    session_vwap,
    vwap_slope,
)
from app.terminal.structs import RATES_DTYPE

DAY = 86_400


@pytest.fixture(scope="module")
def ohlc() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    close = 1900.0 + np.cumsum(rng.normal(0.0, 1.5, 3000))
    high = close + rng.random(3000) * 2.0
    low = close - rng.random(3000) * 2.0
    return high, low, close


def same(actual: np.ndarray, expected: np.ndarray, tolerance: float = 1e-9) -> None:
    """Equal warm-up (NaN in the same places) and equal values after it."""
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    valid = ~np.isnan(expected)
    np.testing.assert_allclose(actual[valid], expected[valid], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("period", [1, 2, 5, 9, 12, 26, 50, 200])
def test_ema_matches_talib(ohlc, period: int) -> None:
    close = ohlc[2]
    same(ema(close, period), talib.EMA(close, period))


def test_ema_stays_exact_over_a_long_series() -> None:
    close = 100.0 + np.cumsum(np.random.default_rng(1).normal(0.0, 0.5, 50_000))
    for period in (2, 14, 200):
        same(ema(close, period), talib.EMA(close, period))


def test_ema_starts_after_leading_nans_and_is_nan_when_too_short() -> None:
    values = np.array([np.nan, np.nan, 1.0, 2.0, 3.0, 4.0])
    out = ema(values, 3)
    # seed = mean(1, 2, 3) = 2 at index 4, then 2 + 0.5 * (4 - 2) = 3
    np.testing.assert_array_equal(np.isnan(out), [True, True, True, True, False, False])
    assert out[4] == pytest.approx(2.0)
    assert out[5] == pytest.approx(3.0)
    assert np.isnan(ema(np.array([1.0, 2.0]), 3)).all()


@given(
    values=st.lists(st.floats(1.0, 1000.0), min_size=1, max_size=300),
    period=st.integers(1, 60),
)
@settings(max_examples=60, deadline=None)
def test_ema_matches_talib_for_any_input(values: list[float], period: int) -> None:
    array = np.array(values)
    same(ema(array, period), talib.EMA(array, period), tolerance=1e-7)


def test_rsi_matches_talib(ohlc) -> None:
    close = ohlc[2]
    for period in (2, 14, 30):
        same(rsi(close, period), talib.RSI(close, period))


def test_rsi_reads_neutral_when_price_is_flat_and_100_when_it_only_rises() -> None:
    assert rsi(np.full(20, 5.0), 14)[-1] == 50.0
    assert rsi(np.arange(20.0), 14)[-1] == 100.0
    assert np.isnan(rsi(np.arange(14.0), 14)).all()


def test_macd_is_the_ema_difference_and_its_signal(ohlc) -> None:
    close = ohlc[2]
    line, signal, histogram = macd(close, 12, 26, 9)
    reference_line = talib.EMA(close, 12) - talib.EMA(close, 26)
    reference_signal = np.full(len(close), np.nan)
    reference_signal[25:] = talib.EMA(reference_line[25:], 9)
    same(line, reference_line)
    same(signal, reference_signal)
    same(histogram, reference_line - reference_signal)
    # TA-Lib's own MACD seeds the fast EMA later; once both have forgotten their seeds they agree
    t_line, t_signal, t_histogram = talib.MACD(close, 12, 26, 9)
    np.testing.assert_allclose(line[400:], t_line[400:], atol=1e-9)
    np.testing.assert_allclose(signal[400:], t_signal[400:], atol=1e-9)
    np.testing.assert_allclose(histogram[400:], t_histogram[400:], atol=1e-9)
    assert np.flatnonzero(~np.isnan(histogram))[0] == np.flatnonzero(~np.isnan(t_histogram))[0] == 33


def test_atr_matches_talib(ohlc) -> None:
    high, low, close = ohlc
    for period in (1, 14, 21):
        same(atr(high, low, close, period), talib.ATR(high, low, close, period))


def test_bollinger_width_matches_talib(ohlc) -> None:
    close = ohlc[2]
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    same(bollinger_width(close, 20, 2.0), (upper - lower) / middle)
    upper, middle, lower = talib.BBANDS(close, 10, 1.5, 1.5, 0)
    same(bollinger_width(close, 10, 1.5), (upper - lower) / middle)


def test_bollinger_width_by_hand() -> None:
    # closes 1, 2, 3: mean 2, population std sqrt(2/3); width = 4 * std / mean
    width = bollinger_width(np.array([1.0, 2.0, 3.0]), 3, 2.0)
    assert width[-1] == pytest.approx(4.0 * math.sqrt(2.0 / 3.0) / 2.0)
    assert np.isnan(width[:2]).all()


def _bars_over_days(offset_s: int = 0) -> np.ndarray:
    rng = np.random.default_rng(3)
    n = 700  # M5 bars: about 2.4 days
    bars = np.zeros(n, dtype=RATES_DTYPE)
    bars["time"] = 3 * DAY - 40 * 300 + offset_s + 300 * np.arange(n)
    close = 1.1 + np.cumsum(rng.normal(0.0, 0.0005, n))
    bars["close"] = close
    bars["open"] = close - rng.normal(0.0, 0.0002, n)
    bars["high"] = np.maximum(bars["open"], close) + rng.random(n) * 0.0003
    bars["low"] = np.minimum(bars["open"], close) - rng.random(n) * 0.0003
    bars["tick_volume"] = rng.integers(1, 400, n)
    # real volume on some bars only: those bars use it, the others their tick volume
    bars["real_volume"] = np.where(rng.random(n) < 0.3, rng.integers(1_000, 9_000, n), 0)
    return bars


def _vwap_loop(bars: np.ndarray, offset_s: int) -> list[float]:
    out: list[float] = []
    day = None
    pv = v = 0.0
    for bar in bars:
        this_day = (int(bar["time"]) - offset_s) // DAY
        if this_day != day:
            day, pv, v = this_day, 0.0, 0.0
        volume = float(bar["real_volume"]) if bar["real_volume"] else float(bar["tick_volume"])
        pv += (bar["high"] + bar["low"] + bar["close"]) / 3.0 * volume
        v += volume
        out.append(pv / v if v else math.nan)
    return out


@pytest.mark.parametrize("offset_s", [0, 3 * 3600])
def test_session_vwap_matches_a_plain_loop_and_resets_each_utc_day(offset_s: int) -> None:
    bars = _bars_over_days(offset_s)
    vwap = session_vwap(bars, offset_s)
    np.testing.assert_allclose(vwap, _vwap_loop(bars, offset_s), rtol=1e-12)
    starts = np.flatnonzero(np.diff(session_ids(bars["time"], offset_s))) + 1
    assert list(starts) == [40, 328, 616]
    for start in starts:  # the first bar of a day is its own typical price
        bar = bars[start]
        assert vwap[start] == pytest.approx((bar["high"] + bar["low"] + bar["close"]) / 3.0)


def test_session_vwap_is_nan_until_the_day_has_volume() -> None:
    bars = np.zeros(3, dtype=RATES_DTYPE)
    bars["time"] = [0, 300, 600]
    bars["high"] = bars["low"] = bars["close"] = [1.0, 2.0, 4.0]
    bars["tick_volume"] = [0, 1, 3]
    vwap = session_vwap(bars)
    assert np.isnan(vwap[0])
    assert vwap[1] == pytest.approx(2.0)
    assert vwap[2] == pytest.approx((2.0 + 12.0) / 4.0)
    assert len(session_vwap(bars[:0])) == 0


def test_vwap_slope_is_the_relative_change_over_n_bars() -> None:
    vwap = np.array([100.0, 101.0, 102.0, 103.0, 104.0, 110.0])
    slope = vwap_slope(vwap, 3)
    assert np.isnan(slope[:3]).all()
    assert slope[3] == pytest.approx(0.03)
    assert slope[5] == pytest.approx((110.0 - 102.0) / 102.0)
    assert np.isnan(vwap_slope(vwap[:3], 3)).all()


def test_vwap_slope_is_nan_across_a_daily_reset() -> None:
    vwap = np.array([100.0, 101.0, 102.0, 103.0, 50.0, 51.0, 52.0, 53.0])
    sessions = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    slope = vwap_slope(vwap, 3, sessions)
    assert slope[3] == pytest.approx(0.03)
    assert np.isnan(slope[4:7]).all()
    assert slope[7] == pytest.approx(0.06)
