"""Large clock jumps, ticks rebuilt from bars, and the bounded live tick buffer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.terminal import constants as c
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import LIVE_TICK_HOURS, Market
from tests.terminal.sim_helpers import MARKET_START


def make_market(seed: int = 17) -> tuple[SimClock, Market]:
    clock = SimClock(start=MARKET_START, speed=0.0)
    return clock, Market(clock=clock, seed=seed, history_days=1.0)


def _bars_from_ticks(ticks: np.ndarray) -> np.ndarray:
    minutes = ticks["time_msc"] // 60000
    _, first = np.unique(minutes, return_index=True)
    last = np.append(first[1:], len(ticks)) - 1
    bid = ticks["bid"]
    return np.stack(
        [
            bid[first],
            np.maximum.reduceat(bid, first),
            np.minimum.reduceat(bid, first),
            bid[last],
            np.diff(np.append(first, len(ticks))),
        ],
        axis=1,
    )


def test_a_three_day_jump_gives_the_same_path_as_small_steps() -> None:
    clock_a, jumped = make_market()
    clock_b, stepped = make_market()
    clock_a.advance(3 * 24 * 60 // 55 * 55 * 60)
    jumped.advance_to_now()
    for _ in range(3 * 24 * 60 // 55):  # steps just short of a bulk fill
        clock_b.advance(55 * 60)
        stepped.quote("EURUSD")
        stepped.quote("BTCUSD")
    for name in ("EURUSD", "BTCUSD"):
        a = jumped.rates_from_pos(name, c.TIMEFRAME_M1, 0, 10_000)
        b = stepped.rates_from_pos(name, c.TIMEFRAME_M1, 0, 10_000)
        assert np.array_equal(a, b)
        assert np.all(np.diff(a["time"]) == 60) and len(a) == 1440 + 3 * 24 * 60 // 55 * 55 + 1
        assert jumped.quote(name) == stepped.quote(name)
        t = clock_a.now()
        ticks_a = jumped.ticks_range(name, t - 7200, t, c.COPY_TICKS_ALL)  # rebuilt from bars
        ticks_b = stepped.ticks_range(name, t - 7200, t, c.COPY_TICKS_ALL)  # released live
        assert len(ticks_a) > 3000 and np.array_equal(ticks_a, ticks_b)


def test_ticks_inside_history_match_their_bars() -> None:
    clock, market = make_market()
    clock.advance(2 * 86400 + 17)
    t0 = MARKET_START - MARKET_START % 60 + 86400 - 3600
    ticks = market.ticks_range("XAUUSD", t0, t0 + 3600 - 0.001, c.COPY_TICKS_ALL)
    bars = market.rates_range("XAUUSD", c.TIMEFRAME_M1, t0, t0 + 3599)
    assert len(bars) == 60
    expected = np.stack([bars["open"], bars["high"], bars["low"], bars["close"], bars["tick_volume"]], axis=1)
    assert np.array_equal(_bars_from_ticks(ticks), expected)
    spread = np.rint((ticks["ask"] - ticks["bid"]) / 0.01)
    last_of_bar = np.append(np.flatnonzero(np.diff(ticks["time_msc"] // 60000)), len(ticks) - 1)
    assert np.array_equal(spread[last_of_bar], bars["spread"])


def test_ticks_from_spans_rebuilt_and_live_ticks() -> None:
    clock, market = make_market()
    clock.advance(600)
    t0 = MARKET_START - 1800  # in the generated history, before the first live tick
    forward = market.ticks_from("EURUSD", t0, 2000, c.COPY_TICKS_ALL)
    assert len(forward) == 2000 and forward["time_msc"][0] >= t0 * 1000
    window = market.ticks_range("EURUSD", t0, forward["time_msc"][-1] / 1000.0, c.COPY_TICKS_ALL)
    assert np.array_equal(forward, window[:2000])
    assert forward["time_msc"][-1] > MARKET_START * 1000  # reached into the live part
    info = market.ticks_from("BTCUSD", t0, 50, c.COPY_TICKS_INFO)
    assert len(info) == 50 and np.all(info["flags"] & (c.TICK_FLAG_BID | c.TICK_FLAG_ASK))
    assert len(market.ticks_from("EURUSD", clock.now() + 60, 10, c.COPY_TICKS_ALL)) == 0


def test_old_live_ticks_fold_into_bars_and_come_back_the_same() -> None:
    clock, market = make_market()
    clock.advance(300)
    t = clock.now()
    early = market.ticks_range("GBPUSD", t - 240, t, c.COPY_TICKS_ALL)
    for _ in range(LIVE_TICK_HOURS + 3):
        clock.advance(3600)
        market.advance_to_now()
    state = market._states["GBPUSD"]
    assert state.ticks.start_msc > t * 1000  # the early ticks left the live buffer
    assert len(state.ticks) < (LIVE_TICK_HOURS + 2) * 3600 * 2
    assert np.array_equal(market.ticks_range("GBPUSD", t - 240, t, c.COPY_TICKS_ALL), early)


def test_a_month_long_jump_is_filled_without_gaps() -> None:
    clock, market = make_market()
    market.advance_to_now()
    market.play_path("EURUSD", [(0, 1.1), (86400, 1.2)])
    clock.advance(30 * 86400)
    moved = {name: rest for name, *rest in market.advance_to_now()}
    assert set(moved) == set(market.symbols)
    assert moved["EURUSD"][:2] == [1.1, 1.2]
    for name in ("EURUSD", "BTCUSD"):
        bars = market.rates_from_pos(name, c.TIMEFRAME_M1, 0, 100_000)
        assert len(bars) == 31 * 1440 + 1 and np.all(np.diff(bars["time"]) == 60)
    days = market.rates_from_pos("EURUSD", c.TIMEFRAME_D1, 0, 40)
    assert np.all(days["close"][2:] == 1.2)


@settings(max_examples=12, deadline=None)
@given(steps=st.lists(st.floats(min_value=0.0, max_value=5400.0), min_size=1, max_size=12))
def test_bars_and_ticks_do_not_depend_on_the_step_sequence(steps: list[float]) -> None:
    clock_a = SimClock(start=MARKET_START, speed=0.0)
    clock_b = SimClock(start=MARKET_START, speed=0.0)
    one_jump = Market(clock=clock_a, seed=5, symbols=None, history_days=0.05)
    stepped = Market(clock=clock_b, seed=5, symbols=None, history_days=0.05)
    for step in steps:
        clock_b.advance(step)
        stepped.quote("BTCUSD")
    clock_a.advance(clock_b.now() - clock_a.now())
    assert one_jump.quote("BTCUSD") == stepped.quote("BTCUSD")
    a = one_jump.rates_from_pos("BTCUSD", c.TIMEFRAME_M1, 0, 10_000)
    assert np.array_equal(a, stepped.rates_from_pos("BTCUSD", c.TIMEFRAME_M1, 0, 10_000))
    t = clock_a.now()
    assert np.array_equal(
        one_jump.ticks_range("BTCUSD", t - 600, t, c.COPY_TICKS_ALL),
        stepped.ticks_range("BTCUSD", t - 600, t, c.COPY_TICKS_ALL),
    )
