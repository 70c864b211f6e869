"""Replay mode: a symbol's prices come from given historical bars instead of the seeded model.

The market asks a symbol's model for M1 bars in log-price space (``PriceModel.bars``); a ``ReplayModel``
answers the same question from a ``ReplayTrack``: contiguous M1 bars on the simulator's minute axis. The ticks
of every minute are then made by the market's own synthesis (``synth.bar_path``), which hits each M1 bar's
open first, its high and low once each, and its close last, like MT5's tester in its "1 minute OHLC" mode.

Bars longer than a minute (M5 to H1) are first split into M1 bars by ``split_to_minutes``: a seeded path
through the minute boundaries that starts at the bar's open, touches its high and its low at seeded minutes
(the bar_path rule again, one point per boundary) and ends at its close; each minute's high and low add a
seeded excursion kept inside the bar's range. So every source bar's OHLC is met exactly by its ticks.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.terminal.constants import TICK_FLAG_ASK, TICK_FLAG_BID
from app.terminal.sim.market.model import ModelBars
from app.terminal.sim.market.synth import Noise, Stream, bar_path, layout

if TYPE_CHECKING:
    from app.terminal.sim.market.state import SymbolState

logger = logging.getLogger(__name__)

#: Ticks made for each replayed minute (open, high, low, close, as the tester's "1 minute OHLC" mode).
DEFAULT_TICKS_PER_MINUTE = 4
#: Replayed ticks are made this many minutes at a time (one call per minute would cost more than the engine).
TICK_CHUNK_MINUTES = 1440


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayTrack:
    """One symbol's replayed prices: M1 bars (bid) for minutes ``first_minute`` on, spread in points."""

    first_minute: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    spread: np.ndarray  # points, per minute
    ticks_per_minute: int = DEFAULT_TICKS_PER_MINUTE

    @property
    def end_minute(self) -> int:
        """The first minute past the data."""
        return self.first_minute + len(self.open)


class ReplayModel:
    """``PriceModel``'s interface over a ``ReplayTrack``; past the data the price holds at the last close."""

    def __init__(self, track: ReplayTrack, *, spread_points: int) -> None:
        self._t = track
        self._spread_points = max(1, int(spread_points))
        self._x = {name: np.log(getattr(track, name)) for name in ("open", "high", "low", "close")}
        self.annual_volatility = 0.0
        self.first_day = track.first_minute // 1440
        self._chunk: tuple[int, np.ndarray, np.ndarray] | None = None  # first minute, ticks, start of each minute

    def cached_ticks(self, st: SymbolState, a: int, b: int, *, prev_bid: float, prev_ask: float) -> np.ndarray:
        """The ticks of minutes ``[a, b)``: the same the market makes from these bars, made a day at a time."""
        from app.terminal.sim.market.state import realise, ticks_of_bars

        parts = []
        m = a
        while m < b:
            chunk = self._chunk
            if chunk is None or not chunk[0] <= m < chunk[0] + len(chunk[2]) - 1:
                c0 = m - (m - self._t.first_minute) % TICK_CHUNK_MINUTES
                spec = st.spec
                rows = realise(
                    st,
                    self.bars(c0, c0 + TICK_CHUNK_MINUTES),
                    spread_points=spec.spread_points,
                    digits=spec.digits,
                )
                ticks = ticks_of_bars(
                    st,
                    c0,
                    rows,
                    prev_bid=0.0,
                    prev_ask=0.0,
                    digits=spec.digits,
                    point=spec.point,
                )
                starts = np.searchsorted(ticks["time_msc"], (c0 + np.arange(TICK_CHUNK_MINUTES + 1)) * 60000)
                chunk = self._chunk = (c0, ticks, starts)
            c0, ticks, starts = chunk
            upto = min(b, c0 + TICK_CHUNK_MINUTES)
            parts.append(ticks[starts[m - c0] : starts[upto - c0]])
            m = upto
        out = np.concatenate(parts) if len(parts) != 1 else parts[0].copy()
        if len(out):
            changed = (TICK_FLAG_BID if out["bid"][0] != prev_bid else 0) | (
                TICK_FLAG_ASK if out["ask"][0] != prev_ask else 0
            )
            out["flags"][0] = changed or (TICK_FLAG_BID | TICK_FLAG_ASK)
        return out

    def bars(self, m0: int, m1: int) -> ModelBars:
        t = self._t
        if m0 < t.first_minute or m1 <= m0:
            raise ValueError(f"no replayed bars for minutes [{m0}, {m1})")
        idx = np.minimum(np.arange(m0, m1, dtype=np.int64) - t.first_minute, len(t.open) - 1)
        past = np.arange(m0, m1) >= t.end_minute
        xc = self._x["close"][idx]
        xo = np.where(past, xc, self._x["open"][idx])
        xh = np.where(past, xc, self._x["high"][idx])
        xl = np.where(past, xc, self._x["low"][idx])
        size = m1 - m0
        return ModelBars(
            xo,
            xh,
            xl,
            xc,
            np.full(size, t.ticks_per_minute, dtype=np.int64),
            t.spread[idx].astype(np.float64) / self._spread_points,
            np.zeros(size, dtype=np.int8),
        )


def attach(state: object, track: ReplayTrack) -> None:
    """Make a fresh ``SymbolState`` play ``track``: its model, and an anchor under which prices are the data's."""
    st = state  # SymbolState; typed loosely to keep this module free of the state module's import cycle
    model = ReplayModel(track, spread_points=st.spec.spread_points)  # type: ignore[attr-defined]
    st.model = model  # type: ignore[attr-defined]
    st.anchor_price = round(float(track.open[0]), st.spec.digits)  # type: ignore[attr-defined]
    st.anchor_x = float(np.log(st.anchor_price))  # type: ignore[attr-defined]


def split_to_minutes(
    o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray, *, minutes: int, seed: int, name: str, digits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """M1 bars (open, high, low, close) for source bars of ``minutes`` minutes each, seeded by (seed, name).

    Returns arrays of ``len(o) * minutes``; bar ``i``'s minutes are ``[i * minutes, (i + 1) * minutes)``.
    """
    count = len(o)
    if minutes == 1:
        return o.copy(), h.copy(), l.copy(), c.copy()
    noise = Noise(seed, zlib.crc32(f"replay:{name}".encode()))
    bars = np.arange(count, dtype=np.int64)
    points = np.full(count, minutes + 1, dtype=np.int64)
    lay = layout(noise, bars, points)
    path = bar_path(noise, lay, bars, o, h, l, c, points, digits).reshape(count, minutes + 1)
    mo, mc = path[:, :-1], path[:, 1:]
    keys = lay.keys.reshape(count, minutes + 1)[:, :-1].ravel()
    span = ((h - l) / np.sqrt(minutes))[:, None]
    up = np.abs(noise.normal(Stream.HIGH_AT, Stream.SPREAD_ANGLE, keys)).reshape(count, minutes)
    down = np.abs(noise.normal(Stream.LOW_AT, Stream.SIDE, keys)).reshape(count, minutes)
    mh = np.round(np.minimum(np.maximum(mo, mc) + 0.25 * span * up, h[:, None]), digits)
    ml = np.round(np.maximum(np.minimum(mo, mc) - 0.25 * span * down, l[:, None]), digits)
    mh = np.maximum(mh, np.maximum(mo, mc))
    ml = np.minimum(ml, np.minimum(mo, mc))
    return mo.ravel(), mh.ravel(), ml.ravel(), mc.ravel()
