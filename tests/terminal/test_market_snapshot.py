"""Snapshots: a restored market continues exactly where the saved one left off."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import Market
from tests.terminal.sim_helpers import MARKET_START


def _roundtrip(market: Market, clock: SimClock) -> tuple[Market, SimClock]:
    """Persist the market and clock as JSON and bring them back in a fresh market (another seed)."""
    saved = json.loads(json.dumps({"clock": clock.state(), "market": market.snapshot()}))
    clock2 = SimClock.restore(saved["clock"])
    fresh = Market(clock=clock2, seed=999, history_days=1.0)
    fresh.restore(saved["market"])
    return fresh, clock2


def _same(a: Market, b: Market, symbol: str) -> None:
    assert a.quote(symbol) == b.quote(symbol)
    for tf in (c.TIMEFRAME_M1, c.TIMEFRAME_M5, c.TIMEFRAME_H4):
        assert np.array_equal(a.rates_from_pos(symbol, tf, 0, 50_000), b.rates_from_pos(symbol, tf, 0, 50_000))


def test_restored_market_has_the_same_price_bars_and_future() -> None:
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=8, history_days=3.0)
    clock.advance(1000.25)
    market.advance_to_now()
    restored, clock2 = _roundtrip(market, clock)
    assert clock2.speed == 0.0
    assert clock2.now() == pytest.approx(clock.now())
    for name in market.symbols:
        _same(market, restored, name)
    for step in (0.3, 7.0, 59.0, 3600.0, 5 * 86400.0):  # both continue identically
        clock.advance(step)
        clock2.advance(step)
        for name in ("EURUSD", "BTCUSD"):
            _same(market, restored, name)
    t = clock.now()
    assert np.array_equal(
        market.ticks_range("BTCUSD", t - 30, t, c.COPY_TICKS_ALL),
        restored.ticks_range("BTCUSD", t - 30, t, c.COPY_TICKS_ALL),
    )


def test_scripted_state_survives_a_restore() -> None:
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=8, history_days=1.0)
    market.play_path("EURUSD", [(0, 1.1), (120, 1.112)])
    market.set_price("USDJPY", 155.5)
    clock.advance(40)
    restored, clock2 = _roundtrip(market, clock)
    assert restored.is_scripted("EURUSD") and restored.is_scripted("USDJPY") and not restored.is_scripted("XAUUSD")
    for each in (clock, clock2):
        each.advance(100)
    assert restored.quote("EURUSD").bid == market.quote("EURUSD").bid == 1.112
    assert restored.quote("USDJPY").bid == 155.5
    restored.release_price("USDJPY")
    market.release_price("USDJPY")
    for each in (clock, clock2):
        each.advance(300)
    assert restored.quote("USDJPY") == market.quote("USDJPY")


def test_bars_since_start_survive_a_restart_days_later() -> None:
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=2, history_days=2.0)
    market.set_price("XAUUSD", 2500.0)
    clock.advance(600)
    market.release_price("XAUUSD")
    clock.advance(600)
    before = market.rates_from_pos("XAUUSD", c.TIMEFRAME_M1, 0, 100_000)
    restored, clock2 = _roundtrip(market, clock)
    clock2.advance(2 * 86400)
    after = restored.rates_from_pos("XAUUSD", c.TIMEFRAME_M1, 0, 100_000)
    assert np.array_equal(after[: len(before) - 1], before[:-1])  # all but the then-forming bar
    assert len(after) == len(before) + 2 * 1440
    held = after[(after["time"] >= MARKET_START + 60) & (after["time"] < MARKET_START + 540)]
    assert np.all(held["high"] == 2500.0) and np.all(held["low"] == 2500.0)


def test_unknown_snapshot_version_is_rejected() -> None:
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=2, history_days=0.5)
    data = market.snapshot()
    data["version"] = 0
    with pytest.raises(ValueError):
        market.restore(data)


def test_the_snapshot_keeps_a_bounded_tail_of_live_bars_and_the_prices_go_on_alike() -> None:
    from app.terminal.sim.market.snapshot import KEPT_DAYS

    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=4, history_days=1.0)
    sizes = []
    for _ in range(4):  # 4 x 10 days live
        clock.advance(10 * 86400.0)
        market.advance_to_now()
        sizes.append(len(json.dumps(market.snapshot())))
    assert sizes[3] < sizes[1] * 1.1  # stops growing once the kept span is full
    restored, clock2 = _roundtrip(market, clock)
    kept = restored.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10**6)
    full = market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10**6)
    assert len(kept) == KEPT_DAYS * 1440  # the kept days, the forming bar the last of them
    assert np.array_equal(kept[:-1], full[-len(kept) : -1])
    assert restored.quote("EURUSD") == market.quote("EURUSD")
    for step in (61.0, 3600.0, 86400.0):  # the path goes on exactly as the unrestored market's
        clock.advance(step)
        clock2.advance(step)
        assert restored.quote("EURUSD") == market.quote("EURUSD")
        m5 = market.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 600)
        assert np.array_equal(restored.rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 600), m5)


def test_a_market_built_from_a_snapshot_is_the_one_restore_gives() -> None:
    """The terminal's start builds its market from the saved snapshot at once: the same prices and bars as a fresh
    market that restores it; a symbol the snapshot lacks gets the constructor's seed, as it did; an unreadable
    snapshot leaves a fresh market."""
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=8, history_days=1.0)
    market.set_price("USDJPY", 155.5)
    clock.advance(700.5)
    saved = json.loads(json.dumps({"clock": clock.state(), "market": market.snapshot()}))
    del saved["market"]["symbols"]["XAUUSD"]
    restored, _ = _roundtrip_snapshot(saved, seed=999)
    built = Market(clock=SimClock.restore(saved["clock"]), seed=999, history_days=1.0, snapshot=saved["market"])
    for name in market.symbols:
        _same(restored, built, name)
    assert built.is_scripted("USDJPY")
    fresh = Market(clock=SimClock.restore(saved["clock"]), seed=999, history_days=1.0)
    _same(fresh, built, "XAUUSD")
    unreadable = Market(clock=SimClock.restore(saved["clock"]), seed=999, history_days=1.0, snapshot={"version": -1})
    for name in market.symbols:
        _same(fresh, unreadable, name)


def _roundtrip_snapshot(saved: dict, *, seed: int) -> tuple[Market, SimClock]:
    clock = SimClock.restore(saved["clock"])
    market = Market(clock=clock, seed=seed, history_days=1.0)
    market.restore(saved["market"])
    return market, clock
