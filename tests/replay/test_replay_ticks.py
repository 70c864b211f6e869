"""The replayed market: ticks inside every bar honour its open, high, low and close; M5/M15/H1 come from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.replay.inputs import read_bars
from app.replay.timeline import build_timeline, build_track
from app.terminal import constants as c
from app.terminal.sim.market.replay import split_to_minutes
from app.terminal.sim.symbols import preset_symbols
from app.terminal.sim.terminal import SimulatedTerminal
from tests.replay.bars import bars_from_closes, calm, write_common, write_mt5


def _terminal(source, *, ticks_per_minute: int = 4) -> tuple[SimulatedTerminal, object]:
    timeline = build_timeline([source])
    specs = {"EURUSD": preset_symbols()["EURUSD"]}
    track = build_track(source, timeline, seed=7, digits=5, spread_points=10, ticks_per_minute=ticks_per_minute)
    terminal = SimulatedTerminal(
        data_dir=None,
        speed=0.0,
        start_time=(timeline.sim_first + 1) * 60,
        symbols=specs,
        history_days=1 / 1440,
        replay={"EURUSD": track},
    )
    assert terminal.initialize()
    return terminal, timeline


def _walk(terminal: SimulatedTerminal, until: float) -> None:
    while terminal.control("now") < until:  # steps under an hour: every minute's ticks are made live
        terminal.control("advance", seconds=min(1800.0, until - terminal.control("now")))


@pytest.mark.parametrize("minutes", [60, 15, 1])
def test_every_replayed_bar_is_met_by_its_ticks(tmp_path: Path, minutes: int) -> None:
    count = {60: 40, 15: 120, 1: 600}[minutes]
    times, o, h, l, cl = bars_from_closes(calm(count, step=0.0004), minutes=minutes, wick=0.0006)
    source = read_bars("EURUSD", write_common(tmp_path / "bars.csv", times, o, h, l, cl))
    terminal, timeline = _terminal(source)
    _walk(terminal, timeline.to_sim(float(source.end)))
    for i, t in enumerate(source.time):
        start = timeline.to_sim(float(t))
        ticks = terminal.copy_ticks_range("EURUSD", int(start), int(start + minutes * 60), c.COPY_TICKS_ALL)
        ticks = ticks[ticks["time_msc"] < (start + minutes * 60) * 1000]
        assert len(ticks) == 4 * minutes, i
        bid = ticks["bid"]
        assert (bid[0], bid.max(), bid.min(), bid[-1]) == pytest.approx((o[i], h[i], l[i], cl[i]), abs=1e-9), i
    frame = {60: c.TIMEFRAME_H1, 15: c.TIMEFRAME_M15, 1: c.TIMEFRAME_M1}[minutes]
    first, last = timeline.to_sim(float(source.time[0])), timeline.to_sim(float(source.time[-1]))
    rates = terminal.copy_rates_range("EURUSD", frame, int(first), int(last))
    assert np.allclose(rates["open"], o) and np.allclose(rates["high"], h)
    assert np.allclose(rates["low"], l) and np.allclose(rates["close"], cl)


def test_m5_and_m15_bars_are_built_from_the_replayed_prices(tmp_path: Path) -> None:
    times, o, h, l, cl = bars_from_closes(calm(30, step=0.0004), minutes=60, wick=0.0006)
    source = read_bars("EURUSD", write_mt5(tmp_path / "bars.csv", times, o, h, l, cl, spread=3))
    terminal, timeline = _terminal(source)
    _walk(terminal, timeline.to_sim(float(source.end)))
    first, last = int(timeline.to_sim(float(source.time[0]))), int(timeline.to_sim(float(source.time[-1])))
    m1 = terminal.copy_rates_range("EURUSD", c.TIMEFRAME_M1, first, last + 3599)
    for frame, size in ((c.TIMEFRAME_M5, 5), (c.TIMEFRAME_M15, 15)):
        bars = terminal.copy_rates_range("EURUSD", frame, first, last + 3599)
        assert len(bars) == len(m1) // size
        groups = m1[: len(bars) * size].reshape(len(bars), size)
        assert np.allclose(bars["high"], groups["high"].max(axis=1))
        assert np.allclose(bars["low"], groups["low"].min(axis=1))
        assert np.allclose(bars["open"], groups["open"][:, 0]) and np.allclose(bars["close"], groups["close"][:, -1])
    assert set(np.unique(m1["spread"])) <= {3}


def test_the_minute_split_is_seeded_and_keeps_each_bar_whole() -> None:
    _, o, h, l, cl = bars_from_closes(calm(50, step=0.0005), minutes=60, wick=0.001)
    one = split_to_minutes(o, h, l, cl, minutes=60, seed=3, name="EURUSD", digits=5)
    again = split_to_minutes(o, h, l, cl, minutes=60, seed=3, name="EURUSD", digits=5)
    other = split_to_minutes(o, h, l, cl, minutes=60, seed=4, name="EURUSD", digits=5)
    assert all(np.array_equal(a, b) for a, b in zip(one, again, strict=True))
    assert not np.array_equal(one[1], other[1])
    mo, mh, ml, mc = (a.reshape(50, 60) for a in one)
    assert np.allclose(mo[:, 0], o) and np.allclose(mc[:, -1], cl)
    assert np.allclose(mh.max(axis=1), h) and np.allclose(ml.min(axis=1), l)
    assert (mh >= np.maximum(mo, mc)).all() and (ml <= np.minimum(mo, mc)).all()
    assert np.allclose(mo[:, 1:], mc[:, :-1])  # minute after minute, no jump inside a bar
