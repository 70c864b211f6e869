"""Bars of all 21 MT5 timeframes: alignment, aggregation from the same path, and the copy_rates_* windows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import Market
from app.terminal.structs import RATES_DTYPE
from tests.terminal.sim_helpers import MARKET_START

ALL_TIMEFRAMES = [
    c.TIMEFRAME_M1,
    c.TIMEFRAME_M2,
    c.TIMEFRAME_M3,
    c.TIMEFRAME_M4,
    c.TIMEFRAME_M5,
    c.TIMEFRAME_M6,
    c.TIMEFRAME_M10,
    c.TIMEFRAME_M12,
    c.TIMEFRAME_M15,
    c.TIMEFRAME_M20,
    c.TIMEFRAME_M30,
    c.TIMEFRAME_H1,
    c.TIMEFRAME_H2,
    c.TIMEFRAME_H3,
    c.TIMEFRAME_H4,
    c.TIMEFRAME_H6,
    c.TIMEFRAME_H8,
    c.TIMEFRAME_H12,
    c.TIMEFRAME_D1,
    c.TIMEFRAME_W1,
    c.TIMEFRAME_MN1,
]
MINUTES = {
    c.TIMEFRAME_M1: 1,
    c.TIMEFRAME_M2: 2,
    c.TIMEFRAME_M3: 3,
    c.TIMEFRAME_M4: 4,
    c.TIMEFRAME_M5: 5,
    c.TIMEFRAME_M6: 6,
    c.TIMEFRAME_M10: 10,
    c.TIMEFRAME_M12: 12,
    c.TIMEFRAME_M15: 15,
    c.TIMEFRAME_M20: 20,
    c.TIMEFRAME_M30: 30,
    c.TIMEFRAME_H1: 60,
    c.TIMEFRAME_H2: 120,
    c.TIMEFRAME_H3: 180,
    c.TIMEFRAME_H4: 240,
    c.TIMEFRAME_H6: 360,
    c.TIMEFRAME_H8: 480,
    c.TIMEFRAME_H12: 720,
    c.TIMEFRAME_D1: 1440,
}


@pytest.fixture(scope="module")
def market() -> Market:
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=21, history_days=40.0)
    clock.advance(1234.5)  # a live stretch on top of the history
    return market


def _bar_start(timeframe: int, t: np.ndarray) -> np.ndarray:
    """Independent reference for bar open times."""
    if timeframe in MINUTES:
        return t - t % (MINUTES[timeframe] * 60)
    days = t.astype("datetime64[s]").astype("datetime64[D]")
    if timeframe == c.TIMEFRAME_W1:
        weekday = (days.astype(np.int64) + 4) % 7  # 0 = Sunday
        return (days - weekday.astype("timedelta64[D]")).astype("datetime64[s]").astype(np.int64)
    return days.astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)


def _aggregate(m1: np.ndarray, timeframe: int) -> np.ndarray:
    """Reference aggregation of M1 bars into ``timeframe``, grouped by the reference open times."""
    keys = _bar_start(timeframe, m1["time"])
    starts_at, first = np.unique(keys, return_index=True)
    last = np.append(first[1:], len(m1)) - 1
    out = np.empty(len(first), dtype=RATES_DTYPE)
    out["time"] = starts_at
    out["open"] = m1["open"][first]
    out["high"] = np.maximum.reduceat(m1["high"], first)
    out["low"] = np.minimum.reduceat(m1["low"], first)
    out["close"] = m1["close"][last]
    out["tick_volume"] = np.add.reduceat(m1["tick_volume"], first)
    out["spread"] = m1["spread"][last]
    return out


@pytest.mark.parametrize("timeframe", ALL_TIMEFRAMES)
def test_every_timeframe_is_aligned_and_aggregates_m1(market: Market, timeframe: int) -> None:
    bars = market.rates_from_pos("EURUSD", timeframe, 0, 100_000)
    assert bars.dtype == RATES_DTYPE and len(bars) > 0
    assert np.all(np.diff(bars["time"]) > 0)
    assert np.array_equal(_bar_start(timeframe, bars["time"]), bars["time"])
    m1 = market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 100_000)
    expected = _aggregate(m1, timeframe)
    for field in ("time", "open", "high", "low", "close", "tick_volume", "spread"):
        assert np.array_equal(bars[field], expected[field]), field


def test_weeks_open_on_sunday_and_months_on_the_first(market: Market) -> None:
    weeks = market.rates_from_pos("EURUSD", c.TIMEFRAME_W1, 0, 10)
    assert all(datetime.fromtimestamp(int(t), UTC).strftime("%a %H:%M") == "Sun 00:00" for t in weeks["time"])
    months = market.rates_from_pos("EURUSD", c.TIMEFRAME_MN1, 0, 10)
    assert [datetime.fromtimestamp(int(t), UTC).day for t in months["time"]] == [1] * len(months)
    assert len(months) == 2  # 40 days of history reaching back into May
    days = market.rates_from_pos("EURUSD", c.TIMEFRAME_D1, 0, 3)
    assert np.all(days["time"] % 86400 == 0)


def test_m15_equals_its_three_m5_bars(market: Market) -> None:
    m15 = market.rates_from_pos("BTCUSD", c.TIMEFRAME_M15, 1, 50)
    m5 = market.rates_range("BTCUSD", c.TIMEFRAME_M5, m15["time"][0], m15["time"][-1] + 600)
    assert len(m5) == 3 * len(m15)
    triples = m5.reshape(-1, 3)
    assert np.array_equal(m15["open"], triples["open"][:, 0])
    assert np.array_equal(m15["close"], triples["close"][:, 2])
    assert np.array_equal(m15["high"], triples["high"].max(axis=1))
    assert np.array_equal(m15["low"], triples["low"].min(axis=1))
    assert np.array_equal(m15["tick_volume"], triples["tick_volume"].sum(axis=1))
    summed = triples["real_volume"].sum(axis=1).astype(np.int64)
    assert np.all(np.abs(m15["real_volume"].astype(np.int64) - summed) <= 2)  # each bar rounds on its own


def test_start_pos_counts_back_from_the_forming_bar(market: Market) -> None:
    now = market._clock.now()
    forming = market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 1)
    assert len(forming) == 1 and forming["time"][0] <= now < forming["time"][0] + 300
    window = market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 11)
    assert np.array_equal(market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 10, 1), window[:1])
    assert np.array_equal(market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 3, 5), window[3:8])
    assert window["time"][-1] == forming["time"][0]
    assert len(market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 0)) == 0
    assert market.rates_from_pos("EURUSD", c.TIMEFRAME_H1, 0, 0).dtype == RATES_DTYPE
    assert len(market.rates_from_pos("EURUSD", c.TIMEFRAME_H1, 10**6, 5)) == 0
    assert len(market.rates_from_pos("EURUSD", c.TIMEFRAME_H4, 0, 10**6)) == len(
        market.rates_range("EURUSD", c.TIMEFRAME_H4, 0, now)
    )


def test_rates_from_and_rates_range_windows(market: Market) -> None:
    h1 = market.rates_from_pos("GBPUSD", c.TIMEFRAME_H1, 0, 200)
    t = float(h1["time"][100]) + 1800.0  # half way through a bar
    got = market.rates_from("GBPUSD", c.TIMEFRAME_H1, t, 5)
    assert np.array_equal(got, h1[96:101])
    exact = market.rates_range("GBPUSD", c.TIMEFRAME_H1, float(h1["time"][10]), float(h1["time"][20]))
    assert np.array_equal(exact, h1[10:21])
    inner = market.rates_range("GBPUSD", c.TIMEFRAME_H1, float(h1["time"][10]) + 1, float(h1["time"][20]) - 1)
    assert np.array_equal(inner, h1[11:20])
    assert len(market.rates_from("GBPUSD", c.TIMEFRAME_H1, MARKET_START - 400 * 86400, 5)) == 0
