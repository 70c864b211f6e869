"""One symbol's live state as JSON: what a restored market needs to continue exactly where it stopped.

The generated history is not stored: it is rebuilt from the seed and the ``HistoryParams``. Stored are the
bars made since the symbol went live, at most the last ``KEPT_DAYS`` of them (what a restart needs: the
engine reads about three days of M5 and M15 bars), the anchor of the seeded process, the script, and the
current minute's ticks (released and pending). A market restored from a snapshot that left older live bars
out starts its bars where the stored ones start; its prices go on exactly as before.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import numpy as np

from app.terminal.sim.market.script import Script
from app.terminal.sim.market.series import BarSeries
from app.terminal.sim.market.state import HistoryParams, SymbolState
from app.terminal.structs import TICKS_DTYPE

SNAPSHOT_VERSION = 1
#: live M1 bars kept in a snapshot, in days: the snapshot stops growing after that
KEPT_DAYS = 14


def dump_symbol(st: SymbolState) -> dict[str, Any]:
    start = max(st.history.origin_minute, st.series.first_minute, st.series.last_minute + 1 - KEPT_DAYS * 24 * 60)
    return {
        "history": dataclasses.asdict(st.history),
        "bars_from": start,
        "bars": st.series.encode_from(start),
        "anchor": [st.anchor_price, st.anchor_x],
        "script": None if st.script is None else st.script.to_json(),
        "cur_minute": st.cur_minute,
        "released": st.released,
        "pending": _encode(st.pending),
        "last": _encode(np.array([st.last], dtype=TICKS_DTYPE)),
    }


def saved_history(saved: dict[str, Any]) -> HistoryParams:
    return HistoryParams(**saved["history"])


def load_symbol(st: SymbolState, saved: dict[str, Any]) -> None:
    """Put the saved live state on ``st``, a state whose history was just rebuilt from ``saved_history``."""
    start = int(saved.get("bars_from", st.history.origin_minute))
    if start > st.series.last_minute + 1:  # older live bars were left out: the bars start with the stored ones
        st.series = BarSeries(start)
    st.series.append(BarSeries.decode(saved["bars"]))
    st.anchor_price, st.anchor_x = (float(v) for v in saved["anchor"])
    st.script = None if saved["script"] is None else Script.from_json(saved["script"])
    st.cur_minute = int(saved["cur_minute"])
    st.pending = _decode(saved["pending"])
    st.released = int(saved["released"])
    st.last = _decode(saved["last"])[0]
    st.priced_spread = st.spec.spread_points
    st.quote = None
    st.moved = None
    st.ticks.reset(st.cur_minute * 60000)
    st.ticks.append(st.pending[: st.released])


def _encode(rows: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(rows, dtype=TICKS_DTYPE).tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=TICKS_DTYPE).copy()
