"""MT5 timeframes as groupings of minutes.

Every bar of every timeframe is a run of consecutive M1 bars: intraday timeframes (M1 to D1) are aligned to
multiples of their length from the epoch (so D1 opens at 00:00 UTC), W1 opens on Sunday 00:00 UTC as in MT5,
and MN1 on the first day of the month. Group numbers are consecutive integers in every timeframe.
"""

from __future__ import annotations

import numpy as np

from app.terminal import constants as c

#: Length in minutes of the fixed-length timeframes.
_FIXED_MINUTES: dict[int, int] = {
    c.TIMEFRAME_M1: 1,
    c.TIMEFRAME_M2: 2,
    c.TIMEFRAME_M3: 3,
    c.TIMEFRAME_M4: 4,
    c.TIMEFRAME_M5: 5,
    c.TIMEFRAME_M6: 6,
    c.TIMEFRAME_M10: 10,
    c.TIMEFRAME_M12: 12,
    c.TIMEFRAME_M15: 15,
    c.TIMEFRAME_M20: 20,
    c.TIMEFRAME_M30: 30,
    c.TIMEFRAME_H1: 60,
    c.TIMEFRAME_H2: 120,
    c.TIMEFRAME_H3: 180,
    c.TIMEFRAME_H4: 240,
    c.TIMEFRAME_H6: 360,
    c.TIMEFRAME_H8: 480,
    c.TIMEFRAME_H12: 720,
    c.TIMEFRAME_D1: 1440,
}
_WEEK_MINUTES = 7 * 1440
_FIRST_SUNDAY_MINUTE = 3 * 1440  # 1970-01-01 was a Thursday

#: Every timeframe the terminal accepts.
TIMEFRAMES: frozenset[int] = frozenset(_FIXED_MINUTES) | {c.TIMEFRAME_W1, c.TIMEFRAME_MN1}


def check_timeframe(timeframe: int) -> None:
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"unknown timeframe {timeframe!r}")


def fixed_minutes(timeframe: int) -> int | None:
    """Bar length in minutes, or None for W1 and MN1."""
    return _FIXED_MINUTES.get(timeframe)


def group_of(timeframe: int, minutes: np.ndarray) -> np.ndarray:
    """The bar (group number) each minute falls in."""
    minutes = np.asarray(minutes, dtype=np.int64)
    length = _FIXED_MINUTES.get(timeframe)
    if length is not None:
        return minutes // length
    if timeframe == c.TIMEFRAME_W1:
        return (minutes - _FIRST_SUNDAY_MINUTE) // _WEEK_MINUTES
    return minutes.astype("datetime64[m]").astype("datetime64[M]").astype(np.int64)


def group_start(timeframe: int, groups: np.ndarray) -> np.ndarray:
    """The first minute of each group (the bar's open time in minutes)."""
    groups = np.asarray(groups, dtype=np.int64)
    length = _FIXED_MINUTES.get(timeframe)
    if length is not None:
        return groups * length
    if timeframe == c.TIMEFRAME_W1:
        return groups * _WEEK_MINUTES + _FIRST_SUNDAY_MINUTE
    return groups.astype("datetime64[M]").astype("datetime64[m]").astype(np.int64)


def group_of_minute(timeframe: int, minute: int) -> int:
    return int(group_of(timeframe, np.array([minute]))[0])


def group_start_minute(timeframe: int, group: int) -> int:
    return int(group_start(timeframe, np.array([group]))[0])
