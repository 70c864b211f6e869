"""The simulated market: shapes and dtypes, determinism, the clock driving ticks, quotes and moved ranges."""

from __future__ import annotations

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market.core import Market, Quote
from app.terminal.sim.symbols import PRESET_SYMBOLS, preset_symbols
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE
from tests.terminal.sim_helpers import MARKET_START


def make_market(seed: int = 11, history_days: float = 2.0) -> tuple[SimClock, Market]:
    clock = SimClock(start=MARKET_START, speed=0.0)
    return clock, Market(clock=clock, seed=seed, history_days=history_days)


def test_presets_and_their_copies() -> None:
    specs = preset_symbols()
    assert set(specs) == {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD"}
    assert specs["EURUSD"].digits == 5 and specs["USDJPY"].digits == 3 and specs["XAUUSD"].digits == 2
    assert specs["XAUUSD"].trade_contract_size == 100 and specs["BTCUSD"].has_trade_flags
    assert all(s.filling_mode == c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC for s in specs.values())
    specs["EURUSD"].trade_stops_level = 50
    assert PRESET_SYMBOLS["EURUSD"].trade_stops_level == 0
    assert preset_symbols()["EURUSD"].trade_stops_level == 0


def test_history_exists_at_start_with_exact_dtypes() -> None:
    clock, market = make_market(history_days=3.0)
    rates = market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 4000)
    assert rates.dtype == RATES_DTYPE and rates.dtype.itemsize == 60
    assert len(rates) == 4000
    assert len(market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10_000)) == 3 * 1440 + 1
    assert np.all(np.diff(rates["time"]) == 60)  # oldest first, no gaps (24/7 market)
    assert rates["time"][-1] <= clock.now() < rates["time"][-1] + 120
    ticks = market.ticks_range("EURUSD", clock.now() - 600, clock.now(), c.COPY_TICKS_ALL)
    assert ticks.dtype == TICKS_DTYPE and ticks.dtype.itemsize == 60
    assert np.all(np.diff(ticks["time_msc"]) >= 0)
    assert np.all(ticks["time"] == ticks["time_msc"] // 1000)


def test_prices_are_plausible() -> None:
    _, market = make_market(history_days=5.0)
    for name, spec in market.symbols.items():
        rates = market.rates_from_pos(name, c.TIMEFRAME_M1, 0, 5 * 1440)
        assert np.all(rates["high"] >= np.maximum(rates["open"], rates["close"]))
        assert np.all(rates["low"] <= np.minimum(rates["open"], rates["close"]))
        assert 0.8 * spec.start_price < rates["close"][-1] < 1.25 * spec.start_price
        assert np.all(np.round(rates["close"], spec.digits) == rates["close"])
        assert np.all(rates["spread"] >= 1)
        assert 0.5 * spec.spread_points < np.median(rates["spread"]) < 2 * spec.spread_points
        # about one tick a second on average
        assert 30 < rates["tick_volume"].mean() < 90
        quote = market.quote(name)
        assert quote.ask > quote.bid > 0


def test_quiet_and_busy_sessions() -> None:
    _, market = make_market(history_days=14.0)
    rates = market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 14 * 1440)
    hours = (rates["time"] // 3600) % 24
    asia = rates[(hours >= 0) & (hours < 6)]
    overlap = rates[(hours >= 12) & (hours < 16)]
    assert asia["tick_volume"].mean() < overlap["tick_volume"].mean()
    assert np.mean(asia["high"] - asia["low"]) < np.mean(overlap["high"] - overlap["low"])


def test_trade_flags_only_for_symbols_that_have_them() -> None:
    clock, market = make_market()
    clock.advance(120)
    btc = market.ticks_range("BTCUSD", clock.now() - 120, clock.now(), c.COPY_TICKS_ALL)
    assert len(btc) > 20
    side = btc["flags"] & (c.TICK_FLAG_BUY | c.TICK_FLAG_SELL)
    assert np.all((side == c.TICK_FLAG_BUY) | (side == c.TICK_FLAG_SELL))
    assert np.all(btc["volume_real"] > 0) and np.all((btc["last"] == btc["bid"]) | (btc["last"] == btc["ask"]))
    trades = market.ticks_range("BTCUSD", clock.now() - 120, clock.now(), c.COPY_TICKS_TRADE)
    assert len(trades) == len(btc)
    eur = market.ticks_range("EURUSD", clock.now() - 120, clock.now(), c.COPY_TICKS_ALL)
    assert len(eur) > 20
    assert np.all(eur["flags"] & (c.TICK_FLAG_BUY | c.TICK_FLAG_SELL | c.TICK_FLAG_LAST) == 0)
    assert np.all(eur["volume_real"] == 0) and np.all(eur["last"] == 0)
    assert len(market.ticks_range("EURUSD", clock.now() - 120, clock.now(), c.COPY_TICKS_TRADE)) == 0
    info = market.ticks_range("EURUSD", clock.now() - 120, clock.now(), c.COPY_TICKS_INFO)
    assert len(info) == len(eur)


def test_bar_real_volume_matches_tick_volume_real() -> None:
    clock, market = make_market()
    clock.advance(300)
    bar = market.rates_from_pos("BTCUSD", c.TIMEFRAME_M1, 1, 1)[0]
    ticks = market.ticks_range("BTCUSD", bar["time"], bar["time"] + 59.999, c.COPY_TICKS_ALL)
    assert len(ticks) == bar["tick_volume"]
    assert bar["real_volume"] == int(np.rint(ticks["volume_real"].sum()))
    assert market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 100)["real_volume"].max() == 0


def test_quote_follows_the_clock() -> None:
    clock, market = make_market()
    first = market.quote("EURUSD")
    assert isinstance(first, Quote)
    assert market.quote("EURUSD") is first  # nothing new while the clock stands still
    clock.advance(60)
    later = market.quote("EURUSD")
    assert first.time_msc < later.time_msc <= clock.now_msc()
    last_tick = market.ticks_range("EURUSD", clock.now() - 60, clock.now(), c.COPY_TICKS_ALL)[-1]
    assert (later.bid, later.ask, later.time_msc) == (last_tick["bid"], last_tick["ask"], last_tick["time_msc"])


def test_advance_to_now_reports_the_range_touched_since_the_last_call() -> None:
    clock, market = make_market()
    market.advance_to_now()
    t0 = clock.now()
    clock.advance(90)
    moved = {name: rest for name, *rest in market.advance_to_now()}
    assert set(moved) == set(market.symbols)
    ticks = market.ticks_range("GBPUSD", t0 + 0.001, clock.now(), c.COPY_TICKS_ALL)
    assert tuple(moved["GBPUSD"]) == (ticks["bid"].min(), ticks["bid"].max(), ticks["ask"].min(), ticks["ask"].max())
    assert market.advance_to_now() == []  # frozen clock: nothing new


def test_same_seed_and_steps_give_identical_arrays() -> None:
    def run(seed: int) -> list[np.ndarray]:
        clock, market = make_market(seed=seed)
        out = []
        for step in (0.5, 3, 61, 7200, 30, 86400 * 2):
            clock.advance(step)
            market.advance_to_now()
            out.append(market.rates_from_pos("XAUUSD", c.TIMEFRAME_M5, 0, 300))
            out.append(market.ticks_range("BTCUSD", clock.now() - 30, clock.now(), c.COPY_TICKS_ALL))
        return out

    a, b, other = run(5), run(5), run(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], other[0])


def test_the_path_does_not_depend_on_how_the_clock_was_stepped() -> None:
    clock_a, a = make_market()
    clock_b, b = make_market()
    clock_a.advance(1800)
    for _ in range(180):
        clock_b.advance(10)
        b.quote("EURUSD")
    assert a.quote("EURUSD") == b.quote("EURUSD")
    assert np.array_equal(
        a.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 100), b.rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 100)
    )


def test_unknown_symbol_and_bad_arguments() -> None:
    _, market = make_market()
    with pytest.raises(KeyError):
        market.quote("NOPE")
    with pytest.raises(ValueError):
        market.rates_from_pos("EURUSD", 7, 0, 10)
    with pytest.raises(ValueError):
        market.rates_range("EURUSD", 99999, MARKET_START - 3600, MARKET_START)
    with pytest.raises(ValueError):
        market.rates_from_pos("EURUSD", c.TIMEFRAME_M1, -1, 10)
    with pytest.raises(ValueError):
        market.ticks_from("EURUSD", MARKET_START - 60, 10, 12345)


def test_symbols_added_later_get_history() -> None:
    specs = preset_symbols()
    clock = SimClock(start=MARKET_START, speed=0.0)
    market = Market(clock=clock, seed=3, symbols=specs, history_days=1.0)
    extra = PRESET_SYMBOLS["EURUSD"].__class__(**{**_fields(specs["EURUSD"]), "name": "EURUSD.x"})
    specs["EURUSD.x"] = extra
    assert market.symbols is specs
    assert len(market.rates_from_pos("EURUSD.x", c.TIMEFRAME_M1, 0, 10_000)) == 1440 + 1
    assert market.quote("EURUSD.x").bid > 0


def _fields(spec: object) -> dict:
    return {name: getattr(spec, name) for name in spec.__slots__}


def test_any_integer_seed_works() -> None:
    for seed in (0, -5, 2**70 + 3):
        _, market = make_market(seed=seed, history_days=0.1)
        assert market.quote("EURUSD").bid > 0
