"""The replay's time axis and each symbol's M1 track on it.

The simulator's market has a bar for every minute. Real data has none over weekends and holidays, so whole
days in which no symbol has a bar are taken out of the simulator's axis (the hour of day, which the engine's
sessions read, is kept); what remains of a gap (less than a day) holds the last price. ``Timeline`` maps data
time to simulator time and back, so every time a replay writes is the data's own.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass

import numpy as np

from app.replay.inputs import SourceBars
from app.terminal.sim.market.replay import (
    DEFAULT_TICKS_PER_MINUTE,
    ReplayTrack,
    split_to_minutes,
)

logger = logging.getLogger(__name__)

_DAY = 1440


@dataclass(frozen=True, slots=True)
class Timeline:
    """Data minutes ``[first, end)``; ``cuts`` are removed spans ``(data start minute, length)``."""

    first: int
    end: int
    cuts: tuple[tuple[int, int], ...]

    def _removed_before(self, minute: int) -> tuple[int, int | None]:
        """Minutes removed before ``minute``, and the start of the cut that holds it (None if none)."""
        removed = 0
        for start, length in self.cuts:
            if minute < start:
                break
            if minute < start + length:
                return removed, start
            removed += length
        return removed, None

    def to_sim_minute(self, minute: int) -> int:
        removed, inside = self._removed_before(minute)
        return (inside if inside is not None else minute) - removed

    def to_sim(self, seconds: float) -> float:
        minute = int(seconds // 60)
        removed, inside = self._removed_before(minute)
        if inside is not None:
            return float((inside - removed) * 60)
        return seconds - removed * 60

    def to_data(self, sim_seconds: float) -> float:
        removed = 0
        for start, length in self.cuts:
            if sim_seconds / 60 < start - removed:
                break
            removed += length
        return sim_seconds + removed * 60

    @property
    def sim_first(self) -> int:
        return self.to_sim_minute(self.first)

    @property
    def sim_end(self) -> int:
        return self.to_sim_minute(self.end - 1) + 1


def build_timeline(sources: list[SourceBars]) -> Timeline:
    spans = sorted((int(t) // 60, int(t) // 60 + s.minutes) for s in sources for t in s.time)
    first, end = spans[0][0], max(e for _, e in spans)
    cuts = []
    reach = spans[0][1]
    for start, stop in spans[1:]:
        if start > reach and (start - reach) >= _DAY:
            cuts.append((reach, (start - reach) // _DAY * _DAY))
        reach = max(reach, stop)
    return Timeline(first=first, end=end, cuts=tuple(cuts))


def build_track(
    source: SourceBars,
    timeline: Timeline,
    *,
    seed: int,
    digits: int,
    spread_points: int,
    ticks_per_minute: int = DEFAULT_TICKS_PER_MINUTE,
) -> ReplayTrack:
    """The symbol's M1 bars over the whole simulator axis; minutes without data hold the last price."""
    k = source.minutes
    mo, mh, ml, mc = split_to_minutes(
        source.open, source.high, source.low, source.close, minutes=k, seed=seed, name=source.symbol, digits=digits
    )
    sim_first, sim_end = timeline.sim_first, timeline.sim_end
    size = sim_end - sim_first
    bar_minutes = np.array([timeline.to_sim_minute(int(t) // 60) for t in source.time], dtype=np.int64)
    at = (bar_minutes[:, None] + np.arange(k)[None, :]).ravel() - sim_first
    close = np.full(size, np.nan)
    o, h, l = close.copy(), close.copy(), close.copy()
    o[at], h[at], l[at], close[at] = mo, mh, ml, mc
    have = ~np.isnan(close)
    # carry the last close through minutes without data (before the first bar: the first open)
    idx = np.where(have, np.arange(size), -1)
    np.maximum.accumulate(idx, out=idx)
    hold = np.where(idx >= 0, close[np.maximum(idx, 0)], source.open[0])
    o, h, l, close = (np.where(have, a, hold) for a in (o, h, l, close))
    spread = np.full(size, float(spread_points))
    if source.spread is not None:
        per_minute = np.repeat(np.where(source.spread > 0, source.spread, spread_points), k)
        spread[at] = per_minute
    return ReplayTrack(
        first_minute=sim_first, open=o, high=h, low=l, close=close, spread=spread, ticks_per_minute=ticks_per_minute
    )


def bar_index(source: SourceBars, seconds: float) -> int | None:
    """The bar holding data time ``seconds`` (None: outside the data)."""
    if seconds < source.time[0] or seconds >= source.end:
        return None
    return bisect.bisect_right(source.time.tolist(), seconds) - 1
