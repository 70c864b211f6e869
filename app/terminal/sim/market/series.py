"""Storage of the simulated market: dense M1 bars per symbol and a bounded buffer of live ticks."""

from __future__ import annotations

import base64
import logging
import zlib

import numpy as np

from app.terminal.sim.market.timeframes import fixed_minutes, group_of, group_of_minute, group_start, group_start_minute
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE

logger = logging.getLogger(__name__)

#: Internal M1 row. Real volume is counted exactly in hundredths (ticks carry two decimals) and rounded
#: to whole units only when bars are handed out, so it does not depend on how the ticks were batched.
BAR_DTYPE = np.dtype(
    [
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<i8"),
        ("spread", "<i4"),
        ("real_volume_x100", "<i8"),
    ]
)
_EMPTY_RATES = np.empty(0, dtype=RATES_DTYPE)
_PRICE_SCALE = 1e8


class BarSeries:
    """M1 bars of one symbol, one per minute without gaps from ``first_minute`` (a 24/7 market)."""

    def __init__(self, first_minute: int) -> None:
        self.first_minute = int(first_minute)
        self._rows = np.empty(4096, dtype=BAR_DTYPE)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def last_minute(self) -> int:
        """Minute of the newest (possibly still forming) bar; ``first_minute - 1`` when empty."""
        return self.first_minute + self._len - 1

    @property
    def rows(self) -> np.ndarray:
        return self._rows[: self._len]

    def append(self, rows: np.ndarray) -> None:
        """Add bars for the minutes right after ``last_minute``."""
        end = self._len + len(rows)
        if end > len(self._rows):
            grown = np.empty(max(end, 2 * len(self._rows)), dtype=BAR_DTYPE)
            grown[: self._len] = self._rows[: self._len]
            self._rows = grown
        self._rows[self._len : end] = rows
        self._len = end

    def merge_ticks(self, ticks: np.ndarray, point: float) -> None:
        """Fold released ticks (time-ordered, no minute skipped) into the bars."""
        if len(ticks) == 0:
            return
        times = ticks["time_msc"]
        if times[0] // 60000 == times[-1] // 60000:
            self._merge_one_minute(int(times[0]) // 60000, ticks, point)
            return
        minutes = times // 60000
        starts = np.concatenate(([0], np.flatnonzero(np.diff(minutes)) + 1))
        ends = np.append(starts[1:], len(ticks)) - 1
        bid = ticks["bid"]
        rows = np.empty(len(starts), dtype=BAR_DTYPE)
        rows["open"] = bid[starts]
        rows["high"] = np.maximum.reduceat(bid, starts)
        rows["low"] = np.minimum.reduceat(bid, starts)
        rows["close"] = bid[ends]
        rows["tick_volume"] = np.diff(np.append(starts, len(ticks)))
        rows["spread"] = np.rint((ticks["ask"][ends] - bid[ends]) / point)
        rows["real_volume_x100"] = np.add.reduceat(np.rint(ticks["volume_real"] * 100.0).astype(np.int64), starts)
        group_minutes = minutes[starts]
        if self._len and group_minutes[0] == self.last_minute:
            cur = self._rows[self._len - 1]
            first = rows[0]
            cur["high"] = max(cur["high"], first["high"])
            cur["low"] = min(cur["low"], first["low"])
            cur["close"] = first["close"]
            cur["tick_volume"] += first["tick_volume"]
            cur["spread"] = first["spread"]
            cur["real_volume_x100"] += first["real_volume_x100"]
            rows, group_minutes = rows[1:], group_minutes[1:]
        if len(rows):
            if group_minutes[0] != self.last_minute + 1 or group_minutes[-1] - group_minutes[0] != len(rows) - 1:
                raise ValueError("ticks would leave a gap in the M1 bars")
            self.append(rows)

    def _merge_one_minute(self, minute: int, ticks: np.ndarray, point: float) -> None:
        """``merge_ticks`` for ticks of a single minute (the common live case), without grouping."""
        bid = ticks["bid"]
        high, low, close = float(bid.max()), float(bid.min()), float(bid[-1])
        spread = int(round((float(ticks["ask"][-1]) - close) / point))
        volume = int(np.rint(ticks["volume_real"] * 100.0).sum())
        if self._len and minute == self.last_minute:
            o, h, l, _, tv, _, rv = self._rows[self._len - 1].tolist()
            self._rows[self._len - 1] = (o, max(h, high), min(l, low), close, tv + len(ticks), spread, rv + volume)
        elif minute == self.last_minute + 1:
            self.append(np.array([(float(bid[0]), high, low, close, len(ticks), spread, volume)], dtype=BAR_DTYPE))
        else:
            raise ValueError("ticks would leave a gap in the M1 bars")

    def slice_minutes(self, m0: int, m1: int) -> tuple[int, np.ndarray]:
        """Bars of minutes ``[m0, m1)`` clipped to what is stored, with the first minute returned."""
        lo = max(m0, self.first_minute)
        hi = min(m1, self.last_minute + 1)
        if hi <= lo:
            return lo, self._rows[:0]
        return lo, self._rows[lo - self.first_minute : hi - self.first_minute]

    # --- timeframes ---------------------------------------------------------------------------------

    def rates_groups(self, timeframe: int, g_lo: int, g_hi: int) -> np.ndarray:
        """Bars of ``timeframe`` for groups ``g_lo..g_hi`` (inclusive), oldest first, as stored."""
        if self._len == 0 or g_hi < g_lo:
            return _EMPTY_RATES.copy()
        m_lo = group_start_minute(timeframe, g_lo)
        m_hi = group_start_minute(timeframe, g_hi + 1)
        lo, rows = self.slice_minutes(m_lo, m_hi)
        if len(rows) == 0:
            return _EMPTY_RATES.copy()
        if fixed_minutes(timeframe) == 1:
            out = np.empty(len(rows), dtype=RATES_DTYPE)
            out["time"] = (lo + np.arange(len(rows), dtype=np.int64)) * 60
            for name in ("open", "high", "low", "close", "tick_volume", "spread"):
                out[name] = rows[name]
            out["real_volume"] = np.rint(rows["real_volume_x100"] / 100.0)
            return out
        keys = group_of(timeframe, np.arange(lo, lo + len(rows), dtype=np.int64))
        starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
        ends = np.append(starts[1:], len(rows)) - 1
        out = np.empty(len(starts), dtype=RATES_DTYPE)
        out["time"] = group_start(timeframe, keys[starts]) * 60
        out["open"] = rows["open"][starts]
        out["high"] = np.maximum.reduceat(rows["high"], starts)
        out["low"] = np.minimum.reduceat(rows["low"], starts)
        out["close"] = rows["close"][ends]
        out["tick_volume"] = np.add.reduceat(rows["tick_volume"], starts)
        out["spread"] = rows["spread"][ends]
        out["real_volume"] = np.rint(np.add.reduceat(rows["real_volume_x100"], starts) / 100.0)
        return out

    def rates_from_pos(self, timeframe: int, start_pos: int, count: int) -> np.ndarray:
        if self._len == 0:
            return _EMPTY_RATES.copy()
        g_hi = group_of_minute(timeframe, self.last_minute) - start_pos
        return self.rates_groups(timeframe, g_hi - count + 1, g_hi)

    def rates_from(self, timeframe: int, date_from: float, count: int) -> np.ndarray:
        minute = min(int(np.floor(date_from / 60.0)), self.last_minute)
        g_hi = group_of_minute(timeframe, minute)
        return self.rates_groups(timeframe, g_hi - count + 1, g_hi)

    def rates_range(self, timeframe: int, date_from: float, date_to: float) -> np.ndarray:
        g_lo = group_of_minute(timeframe, int(np.ceil(date_from / 60.0)))
        if group_start_minute(timeframe, g_lo) * 60 < date_from:
            g_lo += 1
        g_hi = group_of_minute(timeframe, int(np.floor(date_to / 60.0)))
        return self.rates_groups(timeframe, g_lo, g_hi)

    # --- persistence ---------------------------------------------------------------------------------

    def encode_from(self, minute: int) -> str:
        """Bars from ``minute`` on as a compact JSON-safe string (exact for prices of up to 8 decimals).

        Prices become integers in 1e-8 units, stored as moves from the previous close, which compress well.
        """
        _, rows = self.slice_minutes(minute, self.last_minute + 1)
        units = np.rint(np.stack([rows[f] for f in ("open", "high", "low", "close")]) * _PRICE_SCALE)
        units = units.astype(np.int64)
        close = units[3]
        before = np.concatenate(([0], close[:-1]))
        columns = np.stack(
            [
                units[0] - before,
                units[1] - close,
                units[2] - close,
                close - before,
                rows["tick_volume"],
                rows["spread"].astype(np.int64),
                rows["real_volume_x100"],
            ]
        )
        return base64.b64encode(zlib.compress(np.ascontiguousarray(columns).tobytes(), 6)).decode("ascii")

    @staticmethod
    def decode(text: str) -> np.ndarray:
        columns = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.int64).reshape(7, -1)
        close = np.cumsum(columns[3])
        before = np.concatenate(([0], close[:-1]))
        rows = np.empty(columns.shape[1], dtype=BAR_DTYPE)
        rows["open"] = (columns[0] + before) / _PRICE_SCALE
        rows["high"] = (columns[1] + close) / _PRICE_SCALE
        rows["low"] = (columns[2] + close) / _PRICE_SCALE
        rows["close"] = close / _PRICE_SCALE
        rows["tick_volume"] = columns[4]
        rows["spread"] = columns[5]
        rows["real_volume_x100"] = columns[6]
        return rows


class TickBuffer:
    """Released ticks from ``start_msc`` on, oldest first; older ticks are synthesised from bars instead.

    Valid rows are ``[head, end)`` of the storage; trimming moves ``head`` and compacts only when the
    dropped part passes half the storage, so trimming costs nothing per tick on average.
    """

    def __init__(self, start_msc: int) -> None:
        self.start_msc = int(start_msc)
        self._rows = np.empty(8192, dtype=TICKS_DTYPE)
        self._times = np.empty(8192, dtype=np.int64)
        self._head = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._head

    def append(self, rows: np.ndarray) -> None:
        if self._end + len(rows) > len(self._rows):
            self._compact(max(len(self._rows), 2 * (len(self) + len(rows))))
        end = self._end + len(rows)
        self._rows[self._end : end] = rows
        self._times[self._end : end] = rows["time_msc"]
        self._end = end

    def reset(self, start_msc: int) -> None:
        """Forget every tick; coverage starts again at ``start_msc``."""
        self.start_msc = int(start_msc)
        self._head = self._end = 0

    def trim(self, cut_msc: int) -> None:
        """Drop ticks before ``cut_msc`` (a minute boundary): from then on they are synthesised from bars."""
        if cut_msc <= self.start_msc:
            return
        self._head += int(np.searchsorted(self._times[self._head : self._end], cut_msc, side="left"))
        self.start_msc = int(cut_msc)
        if self._head > len(self._rows) // 2:
            self._compact(max(8192, 2 * len(self)))

    def _compact(self, size: int) -> None:
        rows = np.empty(size, dtype=TICKS_DTYPE)
        times = np.empty(size, dtype=np.int64)
        count = len(self)
        rows[:count] = self._rows[self._head : self._end]
        times[:count] = self._times[self._head : self._end]
        self._rows, self._times, self._head, self._end = rows, times, 0, count

    @property
    def oldest_msc(self) -> int | None:
        return int(self._times[self._head]) if self._end > self._head else None

    def between(self, lo_msc: int, hi_msc: int) -> np.ndarray:
        """Copy of the ticks with ``lo_msc <= time_msc <= hi_msc``."""
        times = self._times[self._head : self._end]
        i0 = int(np.searchsorted(times, lo_msc, side="left"))
        i1 = int(np.searchsorted(times, hi_msc, side="right"))
        return self._rows[self._head + i0 : self._head + i1].copy()
