"""One symbol's simulated path: its model, stored bars and ticks, and how ticks are made for given minutes.

Prices of the seeded process are ``anchor_price * exp(x - anchor_x)`` on the price grid, where ``x`` is the
model's log path; releasing a scripted price moves the anchor so the process continues from the held price.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.terminal.sim.market.model import MINUTES_PER_DAY, ModelBars, PriceModel
from app.terminal.sim.market.script import Script
from app.terminal.sim.market.series import BAR_DTYPE, BarSeries, TickBuffer
from app.terminal.sim.market.synth import (
    Layout,
    Noise,
    bar_path,
    compose,
    layout,
    tick_keys,
    tick_spreads,
    tick_volumes,
)
from app.terminal.sim.symbols import SymbolSpec
from app.terminal.structs import TICKS_DTYPE

logger = logging.getLogger(__name__)

#: Bulk work is done this many minutes at a time, which bounds its memory whatever the span.
BULK_CHUNK_MINUTES = 7 * MINUTES_PER_DAY


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryParams:
    """What the symbol's generated history depends on, kept so a restore can rebuild it bar for bar."""

    first_minute: int
    origin_minute: int  # first minute made live (bars from here on are stored in snapshots)
    start_price: float
    annual_volatility: float
    spread_points: int
    digits: int
    point: float
    trade_volume: float  # typical real volume of one trade tick


@dataclass(slots=True, kw_only=True)
class SymbolState:
    spec: SymbolSpec
    noise: Noise
    model: PriceModel
    history: HistoryParams
    series: BarSeries
    ticks: TickBuffer
    anchor_price: float
    anchor_x: float
    script: Script | None
    cur_minute: int  # the minute whose ticks are pending
    pending: np.ndarray  # every tick of cur_minute, released or not
    released: int  # pending[:released] are out
    next_msc: int  # earliest time at which something new happens
    last: np.void  # the latest released tick (TICKS_DTYPE scalar record)
    moved: np.ndarray | None = None  # low bid, high bid, low ask, high ask since the last report
    quote: Any = None  # the Quote of ``last``, built on demand
    priced_spread: int = 0  # the typical spread the pending ticks were made with

    @property
    def trade(self) -> bool:
        return self.spec.has_trade_flags

    @property
    def typical_volume(self) -> float:
        return self.history.trade_volume


def symbol_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def new_state(
    spec: SymbolSpec, *, seed: int, first_minute: int, origin_minute: int, history: HistoryParams | None = None
) -> SymbolState:
    """A symbol whose model starts at ``first_minute``, with empty bars; ``history`` fixes its parameters."""
    key = symbol_key(spec.name)
    params = history or HistoryParams(
        first_minute=first_minute,
        origin_minute=origin_minute,
        start_price=spec.start_price,
        annual_volatility=spec.annual_volatility,
        spread_points=spec.spread_points,
        digits=spec.digits,
        point=spec.point,
        trade_volume=10.0 * spec.volume_min,
    )
    model = PriceModel(
        seed=seed, key=key, annual_volatility=params.annual_volatility, first_day=params.first_minute // MINUTES_PER_DAY
    )
    start = round(params.start_price, params.digits)
    last = np.zeros(1, dtype=TICKS_DTYPE)[0]
    last["time_msc"] = params.first_minute * 60000
    last["time"] = params.first_minute * 60
    last["bid"] = start
    last["ask"] = round(start + params.spread_points * params.point, params.digits)
    return SymbolState(
        spec=spec,
        noise=Noise(seed, key),
        model=model,
        history=params,
        series=BarSeries(params.first_minute),
        ticks=TickBuffer(params.origin_minute * 60000),
        anchor_price=start,
        anchor_x=float(model.bars(params.first_minute, params.first_minute + 1).xo[0]),
        script=None,
        cur_minute=params.first_minute - 1,
        pending=np.empty(0, dtype=TICKS_DTYPE),
        released=0,
        next_msc=params.first_minute * 60000,
        last=last,
    )


def realise(st: SymbolState, mb: ModelBars, *, spread_points: int, digits: int) -> np.ndarray:
    """Price bars of the seeded process for model bars ``mb`` under the current anchor (real volume 0)."""
    scale, ax = st.anchor_price, st.anchor_x
    rows = np.empty(len(mb.n), dtype=BAR_DTYPE)
    rows["open"] = np.round(scale * np.exp(mb.xo - ax), digits)
    rows["high"] = np.round(scale * np.exp(mb.xh - ax), digits)
    rows["low"] = np.round(scale * np.exp(mb.xl - ax), digits)
    rows["close"] = np.round(scale * np.exp(mb.xc - ax), digits)
    rows["tick_volume"] = mb.n
    rows["spread"] = np.maximum(1.0, np.rint(mb.spread_mult * spread_points))
    rows["real_volume_x100"] = 0
    return rows


def ticks_of_bars(
    st: SymbolState, first: int, rows: np.ndarray, *, prev_bid: float, prev_ask: float, digits: int, point: float
) -> np.ndarray:
    """The ticks of stored (or realised) bars for consecutive minutes from ``first``."""
    if len(rows) == 0:
        return np.empty(0, dtype=TICKS_DTYPE)
    minutes = first + np.arange(len(rows), dtype=np.int64)
    n = rows["tick_volume"].astype(np.int64)
    lay = layout(st.noise, minutes, n)
    bid = bar_path(st.noise, lay, minutes, rows["open"], rows["high"], rows["low"], rows["close"], n, digits)
    ask = np.round(bid + tick_spreads(st.noise, lay, rows["spread"], n) * point, digits)
    return compose(
        st.noise, lay, bid, ask, trade=st.trade, typical_volume=st.typical_volume, prev_bid=prev_bid, prev_ask=prev_ask
    )


def scripted_ticks(st: SymbolState, script: Script, lay: Layout, *, prev_bid: float, prev_ask: float) -> np.ndarray:
    bid, ask = script.prices(lay.time_msc, digits=st.spec.digits, point=st.spec.point)
    return compose(
        st.noise, lay, bid, ask, trade=st.trade, typical_volume=st.typical_volume, prev_bid=prev_bid, prev_ask=prev_ask
    )


def live_ticks(st: SymbolState, a: int, b: int, *, prev_bid: float, prev_ask: float) -> np.ndarray:
    """Every tick of minutes ``[a, b)`` in the current mode (seeded process or script)."""
    cached = getattr(st.model, "cached_ticks", None)  # a replayed symbol makes its ticks a day at a time
    if st.script is None and cached is not None:
        return cached(st, a, b, prev_bid=prev_bid, prev_ask=prev_ask)
    mb = st.model.bars(a, b)
    if st.script is not None:
        lay = layout(st.noise, np.arange(a, b, dtype=np.int64), mb.n)
        return scripted_ticks(st, st.script, lay, prev_bid=prev_bid, prev_ask=prev_ask)
    rows = realise(st, mb, spread_points=st.spec.spread_points, digits=st.spec.digits)
    return ticks_of_bars(st, a, rows, prev_bid=prev_bid, prev_ask=prev_ask, digits=st.spec.digits, point=st.spec.point)


def bulk_bars(st: SymbolState, a: int, b: int, *, spread_points: int, digits: int) -> np.ndarray:
    """Bars of minutes ``[a, b)`` of the seeded process at M1 resolution, without making their ticks."""
    parts = []
    for lo in range(a, b, BULK_CHUNK_MINUTES):
        hi = min(b, lo + BULK_CHUNK_MINUTES)
        mb = st.model.bars(lo, hi)
        rows = realise(st, mb, spread_points=spread_points, digits=digits)
        if st.trade:  # real volume is the sum of the ticks' own volumes, drawn without making the ticks
            n = mb.n.astype(np.int64)
            keys = tick_keys(np.arange(lo, hi, dtype=np.int64), n)
            cents = np.rint(tick_volumes(st.noise, keys, st.typical_volume) * 100.0).astype(np.int64)
            rows["real_volume_x100"] = np.add.reduceat(cents, np.cumsum(n) - n)
        parts.append(rows)
    return np.concatenate(parts) if len(parts) != 1 else parts[0]


def mark_moved(st: SymbolState, low_bid: float, high_bid: float, low_ask: float, high_ask: float) -> None:
    if st.moved is None:
        st.moved = np.array([low_bid, high_bid, low_ask, high_ask])
    else:
        m = st.moved
        m[0], m[1] = min(m[0], low_bid), max(m[1], high_bid)
        m[2], m[3] = min(m[2], low_ask), max(m[3], high_ask)
