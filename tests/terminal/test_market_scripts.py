"""Scripted prices: held prices and paths show up in quotes, ticks and bars; release continues from them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import Market

MINUTE_START = datetime(2025, 6, 11, 10, 20, 0, tzinfo=UTC).timestamp()


def make_market(seed: int = 4) -> tuple[SimClock, Market]:
    clock = SimClock(start=MINUTE_START, speed=0.0)  # exactly on a minute boundary
    return clock, Market(clock=clock, seed=seed, history_days=1.0)


def test_set_price_shows_at_once_and_holds() -> None:
    clock, market = make_market()
    market.set_price("EURUSD", 1.1)
    quote = market.quote("EURUSD")
    assert (quote.bid, quote.ask, quote.time_msc) == (1.1, 1.1001, clock.now_msc())  # typical spread 10 points
    assert market.is_scripted("EURUSD") and not market.is_scripted("GBPUSD")
    clock.advance(150)
    ticks = market.ticks_range("EURUSD", MINUTE_START, clock.now(), c.COPY_TICKS_ALL)
    assert len(ticks) > 60  # ticks keep coming at the held price
    assert np.all(ticks["bid"] == 1.1) and np.all(ticks["ask"] == 1.1001)
    bars = market.rates_range("EURUSD", c.TIMEFRAME_M1, MINUTE_START, clock.now())
    assert len(bars) == 3
    for field in ("open", "high", "low", "close"):
        assert np.all(bars[field] == 1.1)
    assert np.all(bars["spread"] == 10)


def test_set_price_with_an_explicit_ask_and_invalid_prices() -> None:
    clock, market = make_market()
    market.set_price("USDJPY", 151.2345, 151.2561)
    quote = market.quote("USDJPY")
    assert (quote.bid, quote.ask) == (151.234, 151.256)  # on the 3-digit grid
    clock.advance(30)
    assert market.quote("USDJPY").ask == 151.256
    with pytest.raises(ValueError):
        market.set_price("USDJPY", 151.0, 150.0)
    with pytest.raises(ValueError):
        market.set_price("USDJPY", -1.0)


def test_path_bids_are_exactly_the_bars_ohlc() -> None:
    clock, market = make_market()
    # plateaus joined by one-second ramps: minute 1 at 1.1000 then 1.1050, minute 2 dips to 1.0950, M5 spans all
    path = [(0, 1.1), (29, 1.1), (30, 1.105), (89, 1.105), (90, 1.095), (149, 1.095), (150, 1.1), (300, 1.1)]
    market.play_path("EURUSD", path)
    clock.advance(300)
    ticks = market.ticks_range("EURUSD", MINUTE_START, clock.now(), c.COPY_TICKS_ALL)
    expected = np.round(
        np.interp(ticks["time_msc"], [MINUTE_START * 1000 + t * 1000 for t, _ in path], [b for _, b in path]), 5
    )
    assert np.array_equal(ticks["bid"], expected)
    m1 = market.rates_range("EURUSD", c.TIMEFRAME_M1, MINUTE_START, MINUTE_START + 240)
    assert m1["open"][0] == 1.1 and m1["low"][0] == 1.1 and m1["high"][0] == 1.105 and m1["close"][0] == 1.105
    assert m1["high"][1] == 1.105 and m1["low"][1] == 1.095 and m1["close"][1] == 1.095
    assert m1["low"][2] == 1.095 and m1["high"][2] == 1.1 and m1["close"][2] == 1.1
    m5 = market.rates_range("EURUSD", c.TIMEFRAME_M5, MINUTE_START, MINUTE_START)
    assert (m5["open"][0], m5["high"][0], m5["low"][0], m5["close"][0]) == (1.1, 1.105, 1.095, 1.1)
    assert m5["tick_volume"][0] == len(ticks)


def test_play_path_interpolates_and_holds_the_last_point() -> None:
    clock, market = make_market()
    market.play_path("XAUUSD", [(10, 2410.0), (70, 2470.0)], spread_points=40)
    start_bid = market.quote("XAUUSD").bid
    clock.advance(40)
    quote = market.quote("XAUUSD")
    t = (quote.time_msc / 1000.0) - MINUTE_START
    assert quote.bid == pytest.approx(2410.0 + (t - 10.0), abs=0.011)
    assert quote.ask == pytest.approx(quote.bid + 0.40)
    early = market.ticks_range("XAUUSD", MINUTE_START, MINUTE_START + 9.999, c.COPY_TICKS_ALL)
    ramp = start_bid + (2410.0 - start_bid) * (early["time_msc"] / 1000.0 - MINUTE_START) / 10.0
    assert np.allclose(early["bid"], ramp, atol=0.011)  # from the current price to the first point
    clock.advance(120)
    assert market.quote("XAUUSD").bid == 2470.0
    assert market.is_scripted("XAUUSD")


def test_path_extremes_are_reported_for_triggers() -> None:
    clock, market = make_market()
    market.advance_to_now()
    path = [(0, 1.27), (10, 1.26), (25, 1.26), (35, 1.28), (50, 1.28), (55, 1.27)]
    market.play_path("GBPUSD", path, spread_points=20)
    clock.advance(58)
    moved = {name: rest for name, *rest in market.advance_to_now()}
    assert moved["GBPUSD"] == pytest.approx([1.26, 1.28, 1.2602, 1.2802])


def test_release_continues_from_the_held_price() -> None:
    clock, market = make_market()
    clock.advance(25)
    seeded = market.quote("EURUSD").bid
    market.set_price("EURUSD", 1.2)  # far from the seeded path
    clock.advance(60)
    market.release_price("EURUSD")
    assert not market.is_scripted("EURUSD")
    released_at = clock.now()
    clock.advance(600)
    ticks = market.ticks_range("EURUSD", released_at, clock.now(), c.COPY_TICKS_ALL)
    assert len(ticks) > 100
    assert abs(ticks["bid"][0] - 1.2) < 0.002  # the first free tick is right next to the held price
    assert np.all(np.abs(ticks["bid"] - 1.2) < 0.02)  # and the walk goes on from there
    assert np.all(np.abs(ticks["bid"] - seeded) > 0.05)
    assert len(np.unique(ticks["bid"])) > 10
    bars = market.rates_range("EURUSD", c.TIMEFRAME_M1, released_at, clock.now())
    assert np.all(np.abs(bars["open"][1:] - bars["close"][:-1]) < 0.001)  # no gap between bars


def test_scripted_trade_symbol_keeps_its_trade_flags() -> None:
    clock, market = make_market()
    market.set_price("BTCUSD", 70000.0, 70010.0)
    clock.advance(30)
    ticks = market.ticks_range("BTCUSD", MINUTE_START + 0.001, clock.now(), c.COPY_TICKS_TRADE)
    assert len(ticks) > 5
    assert np.all((ticks["last"] == 70000.0) | (ticks["last"] == 70010.0))
    assert np.all(ticks["volume_real"] > 0)


def test_invalid_paths_are_rejected() -> None:
    _, market = make_market()
    with pytest.raises(ValueError):
        market.play_path("EURUSD", [])
    with pytest.raises(ValueError):
        market.play_path("EURUSD", [(10, 1.1), (5, 1.2)])
    with pytest.raises(ValueError):
        market.play_path("EURUSD", [(-1, 1.1)])
    assert not market.is_scripted("EURUSD")


def test_a_new_script_replaces_the_old_one_and_release_twice_is_harmless() -> None:
    clock, market = make_market()
    market.play_path("EURUSD", [(0, 1.1), (600, 1.2)])
    clock.advance(10)
    market.set_price("EURUSD", 1.05)
    clock.advance(100)
    assert market.quote("EURUSD").bid == 1.05
    market.release_price("EURUSD")
    market.release_price("EURUSD")
    assert not market.is_scripted("EURUSD")


def test_several_scripts_within_one_minute_keep_ticks_ordered() -> None:
    clock, market = make_market()
    clock.advance(5)
    market.set_price("EURUSD", 1.1)
    clock.advance(5)
    market.set_price("EURUSD", 1.2)
    clock.advance(5)
    market.play_path("EURUSD", [(0, 1.3), (20, 1.3)])
    clock.advance(100)
    ticks = market.ticks_range("EURUSD", MINUTE_START, clock.now(), c.COPY_TICKS_ALL)
    assert np.all(np.diff(ticks["time_msc"]) >= 0)
    seconds = ticks["time_msc"] / 1000.0 - MINUTE_START
    held = [ticks["bid"][(seconds >= lo) & (seconds < hi)] for lo, hi in ((5, 10), (10, 15), (15, 115))]
    assert [set(h.tolist()) for h in held] == [{1.1}, {1.2}, {1.3}]
    bar = market.rates_range("EURUSD", c.TIMEFRAME_M1, MINUTE_START, MINUTE_START)[0]
    assert bar["tick_volume"] == np.count_nonzero(ticks["time_msc"] < (MINUTE_START + 60) * 1000)
    assert (bar["high"], bar["close"]) == (1.3, 1.3)


def test_a_new_typical_spread_shows_within_the_minute() -> None:
    clock, market = make_market()
    clock.advance(2)
    market.quote("EURUSD")
    market.symbols["EURUSD"].spread_points = 80
    clock.advance(20)
    market.quote("EURUSD")
    clock.advance(20)
    ticks = market.ticks_range("EURUSD", MINUTE_START + 23, MINUTE_START + 42, c.COPY_TICKS_ALL)
    assert len(ticks) > 3
    spread = np.rint((ticks["ask"] - ticks["bid"]) / 1e-5)
    assert np.all(spread > 50)
