"""Ticks as a deterministic function of M1 bars.

Every random number here comes from a counter-based hash of (seed, symbol, stream, minute, tick index), so
the ticks of any minute can be produced on their own, in any order, vectorised over many minutes. The ticks
of a bar hit its open, high, low and close exactly and number exactly its tick volume, so ticks synthesised
from a stored bar are the very ticks the live market released for it (for minutes that were not scripted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from app.terminal.constants import (
    TICK_FLAG_ASK,
    TICK_FLAG_BID,
    TICK_FLAG_BUY,
    TICK_FLAG_LAST,
    TICK_FLAG_SELL,
    TICK_FLAG_VOLUME,
)
from app.terminal.structs import TICKS_DTYPE

logger = logging.getLogger(__name__)

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_U_GOLDEN = np.uint64(_GOLDEN)
_U_MUL1 = np.uint64(_MUL1)
_U_MUL2 = np.uint64(_MUL2)
_BAR_SLOT = 4095  # tick index reserved for per-bar draws
_TRADE_FLAGS = TICK_FLAG_LAST | TICK_FLAG_VOLUME


class Stream(IntEnum):
    """Independent random streams."""

    TIME = 1
    PATH = 2
    PATH_ANGLE = 3
    SPREAD = 4
    SPREAD_ANGLE = 5
    SIDE = 6
    VOLUME = 7
    HIGH_AT = 8
    LOW_AT = 9


def _mix(x: int) -> int:
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _MUL1) & _MASK
    z = ((z ^ (z >> 27)) * _MUL2) & _MASK
    return z ^ (z >> 31)


class Noise:
    """Counter-based random numbers for one symbol of one seeded market."""

    __slots__ = ("_salts",)

    def __init__(self, seed: int, key: int) -> None:
        base = _mix(_mix(seed & _MASK) ^ (key & _MASK))
        self._salts = {s: np.uint64(_mix(base ^ int(s))) for s in Stream}

    def uniform(self, stream: Stream, keys: np.ndarray) -> np.ndarray:
        z = keys * _U_GOLDEN + self._salts[stream]
        z ^= z >> np.uint64(30)
        z *= _U_MUL1
        z ^= z >> np.uint64(27)
        z *= _U_MUL2
        z ^= z >> np.uint64(31)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)

    def normal(self, stream: Stream, angle: Stream, keys: np.ndarray) -> np.ndarray:
        radius = np.sqrt(-2.0 * np.log(self.uniform(stream, keys)))
        return radius * np.cos(2.0 * np.pi * self.uniform(angle, keys))


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each tick of a run of bars sits: its bar, its rank in the bar, its hash key and its time."""

    seg: np.ndarray  # bar index of each tick
    rank: np.ndarray  # index of the tick inside its bar
    starts: np.ndarray  # first tick of each bar
    keys: np.ndarray  # uint64 hash keys
    time_msc: np.ndarray


def layout(noise: Noise, minutes: np.ndarray, n: np.ndarray) -> Layout:
    """The tick times of bars ``minutes`` holding ``n`` ticks each (a function of minute and count only)."""
    n = n.astype(np.int64, copy=False)
    starts = np.cumsum(n) - n
    seg = np.repeat(np.arange(len(n)), n)
    rank = np.arange(int(n.sum()), dtype=np.int64) - starts[seg]
    tick_minute = minutes.astype(np.int64, copy=False)[seg]
    keys = tick_keys(minutes, n)
    offset = (noise.uniform(Stream.TIME, keys) * 60000.0).astype(np.int64)
    time_msc = np.sort(tick_minute * 60000 + offset)
    return Layout(seg, rank, starts, keys, time_msc)


def bar_keys(minutes: np.ndarray) -> np.ndarray:
    return (minutes.astype(np.uint64) << np.uint64(12)) | np.uint64(_BAR_SLOT)


def bar_path(
    noise: Noise,
    lay: Layout,
    minutes: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    l: np.ndarray,
    c: np.ndarray,
    n: np.ndarray,
    digits: int,
) -> np.ndarray:
    """Tick prices through each bar: open first, close last, high and low each hit once, all on the grid."""
    n = n.astype(np.int64, copy=False)
    hi0, lo0 = np.maximum(o, c), np.minimum(o, c)
    has_h, has_l = h > hi0, l < lo0
    inner = np.maximum(n - 2, 0)
    bkeys = bar_keys(minutes)
    uh, ul = noise.uniform(Stream.HIGH_AT, bkeys), noise.uniform(Stream.LOW_AT, bkeys)
    last = n - 1
    ih = np.where(has_h, 1 + np.floor(uh * inner).astype(np.int64), np.where(o >= c, 0, last))
    both = has_h & has_l & (inner >= 2)
    il_both = 1 + np.floor(ul * np.maximum(inner - 1, 1)).astype(np.int64)
    il_both = il_both + (il_both >= ih)
    il_one = 1 + np.floor(ul * inner).astype(np.int64)
    il = np.where(both, il_both, np.where(has_l, il_one, np.where(o <= c, 0, last)))
    a1, a2 = np.minimum(ih, il), np.maximum(ih, il)
    v1, v2 = np.where(a1 == ih, h, l), np.where(a2 == ih, h, l)
    seg, j = lay.seg, lay.rank
    o_t, c_t, h_t, l_t = o[seg], c[seg], h[seg], l[seg]
    a1_t, a2_t, v1_t, v2_t, last_t = a1[seg], a2[seg], v1[seg], v2[seg], last[seg]
    # Each leg (open -> first extreme -> second extreme -> close) is a straight line plus a random-walk
    # bridge that is zero at both of its ends.
    leg0, leg1 = j <= a1_t, j <= a2_t
    from_i = np.where(leg0, 0, np.where(leg1, a1_t, a2_t))
    to_i = np.where(leg0, a1_t, np.where(leg1, a2_t, last_t))
    from_v = np.where(leg0, o_t, np.where(leg1, v1_t, v2_t))
    to_v = np.where(leg0, v1_t, np.where(leg1, v2_t, c_t))
    frac = (j - from_i) / np.maximum(to_i - from_i, 1)
    walk = np.cumsum(noise.normal(Stream.PATH, Stream.PATH_ANGLE, lay.keys))
    walk -= np.repeat(walk[lay.starts], n)  # zero at each bar's open
    base = lay.starts[seg]
    bridge = walk - walk[base + from_i] - frac * (walk[base + to_i] - walk[base + from_i])
    scale = 0.35 * (h_t - l_t) / np.sqrt(n[seg])
    path = from_v + (to_v - from_v) * frac + scale * bridge
    path = np.where(path > h_t, 2.0 * h_t - path, path)  # reflect excursions back into the bar
    path = np.where(path < l_t, 2.0 * l_t - path, path)
    path = np.round(np.clip(path, l_t, h_t), digits)
    path = np.where(j == ih[seg], h_t, path)
    path = np.where(j == il[seg], l_t, path)
    path = np.where(j == 0, o_t, path)
    return np.where(j == last_t, c_t, path)


def tick_spreads(noise: Noise, lay: Layout, close_spread: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Spread in points of every tick, floating around the bar's close spread and ending on it."""
    sc = close_spread[lay.seg].astype(np.float64)
    spread = np.maximum(1.0, np.rint(sc * np.exp(0.1 * noise.normal(Stream.SPREAD, Stream.SPREAD_ANGLE, lay.keys))))
    return np.where(lay.rank == n[lay.seg] - 1, sc, spread).astype(np.int64)


def tick_keys(minutes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Hash keys (minute, rank) of every tick of bars ``minutes`` holding ``n`` ticks each."""
    starts = (np.cumsum(n) - n).astype(np.uint64)
    base = (minutes.astype(np.uint64) << np.uint64(12)) - starts
    return np.repeat(base, n) + np.arange(int(n.sum()), dtype=np.uint64)


def tick_volumes(noise: Noise, keys: np.ndarray, typical: float) -> np.ndarray:
    """Real volume of each trade tick: exponential around ``typical``, two decimals, at least 0.01."""
    return np.maximum(0.01, np.round(-typical * np.log(noise.uniform(Stream.VOLUME, keys)), 2))


def compose(
    noise: Noise,
    lay: Layout,
    bid: np.ndarray,
    ask: np.ndarray,
    *,
    trade: bool,
    typical_volume: float,
    prev_bid: float,
    prev_ask: float,
) -> np.ndarray:
    """Tick rows from prices; flags mark what changed since the tick before (``prev_*`` for the first)."""
    size = len(bid)
    out = np.empty(size, dtype=TICKS_DTYPE)
    out["time_msc"] = lay.time_msc
    out["time"] = lay.time_msc // 1000
    out["bid"] = bid
    out["ask"] = ask
    before_bid = np.concatenate(([prev_bid], bid[:-1])) if size else bid
    before_ask = np.concatenate(([prev_ask], ask[:-1])) if size else ask
    flags: np.ndarray = np.where(bid != before_bid, TICK_FLAG_BID, 0) | np.where(ask != before_ask, TICK_FLAG_ASK, 0)
    flags = np.where(flags == 0, TICK_FLAG_BID | TICK_FLAG_ASK, flags)
    if trade:
        step = np.where(lay.rank > 0, bid - before_bid, 0.0)
        u = noise.uniform(Stream.SIDE, lay.keys)
        buy = np.where(step > 0, u < 0.75, np.where(step < 0, u < 0.25, u < 0.5))
        volume_real = tick_volumes(noise, lay.keys, typical_volume)
        out["last"] = np.where(buy, ask, bid)
        out["volume_real"] = volume_real
        out["volume"] = np.maximum(1, np.rint(volume_real)).astype(np.uint64)
        flags = flags | _TRADE_FLAGS | np.where(buy, TICK_FLAG_BUY, TICK_FLAG_SELL)
    else:
        out["last"] = 0.0
        out["volume_real"] = 0.0
        out["volume"] = 0
    out["flags"] = flags
    return out
