"""Scripted prices: a held price or a path of (time, bid) points interpolated in simulated time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Script:
    """Bid as a piecewise-linear function of time (msc), holding its last point; ask from a spread."""

    times_msc: np.ndarray
    bids: np.ndarray
    spread_points: int
    ask_offset: float | None = None  # a fixed ask - bid (set_price with an explicit ask)

    @classmethod
    def hold(cls, now_msc: int, bid: float, *, spread_points: int, ask: float | None) -> Script:
        if not bid > 0:
            raise ValueError(f"bid must be positive, not {bid}")
        if ask is not None and not ask >= bid:
            raise ValueError(f"ask {ask} is below bid {bid}")
        offset = None if ask is None else float(ask) - float(bid)
        return cls(np.array([float(now_msc)]), np.array([float(bid)]), int(spread_points), offset)

    @classmethod
    def path(
        cls, now_msc: int, current_bid: float, points: Sequence[tuple[float, float]], *, spread_points: int
    ) -> Script:
        """``points`` are (seconds after now, bid); a path starting later begins at the current bid."""
        if len(points) == 0:
            raise ValueError("a price path needs at least one point")
        offsets = np.array([float(p[0]) for p in points])
        bids = np.array([float(p[1]) for p in points])
        if np.any(offsets < 0) or np.any(np.diff(offsets) < 0):
            raise ValueError("path times must be >= 0 and non-decreasing")
        if not np.all(bids > 0):
            raise ValueError("path bids must be positive")
        if spread_points < 0:
            raise ValueError("spread_points must be >= 0")
        times = now_msc + offsets * 1000.0
        if offsets[0] > 0:
            times = np.concatenate(([float(now_msc)], times))
            bids = np.concatenate(([float(current_bid)], bids))
        return cls(times, bids, int(spread_points))

    def prices(self, times_msc: np.ndarray, *, digits: int, point: float) -> tuple[np.ndarray, np.ndarray]:
        """Bid and ask at each time, on the price grid."""
        bid = np.round(np.interp(times_msc.astype(np.float64), self.times_msc, self.bids), digits)
        offset = self.spread_points * point if self.ask_offset is None else self.ask_offset
        return bid, np.round(bid + offset, digits)

    def to_json(self) -> dict[str, Any]:
        return {
            "times_msc": self.times_msc.tolist(),
            "bids": self.bids.tolist(),
            "spread_points": self.spread_points,
            "ask_offset": self.ask_offset,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        return cls(
            np.array(data["times_msc"], dtype=np.float64),
            np.array(data["bids"], dtype=np.float64),
            int(data["spread_points"]),
            None if data["ask_offset"] is None else float(data["ask_offset"]),
        )
