"""The scripted replay: a BUY that runs to breakeven and its partial, then a BUY caught by a slide."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.replay.results import iso
from tests.replay.bars import bars_from_closes, calm, write_mt5

WARM = 4 * 24 * 12  # four days of M5 bars before the first trade (the engine's backfill)


def scripted_files(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    warm = calm(WARM, step=0.0002)
    top = warm[-1] + 0.0040
    rise = np.linspace(warm[-1], top, 24)  # 40 pips in two hours
    hold = top + 0.00005 * np.sin(np.arange(12))
    fall = np.linspace(top, top - 0.0060, 36)  # 60 pips down in three hours
    tail = calm(48, level=top - 0.0060, seed=9, step=0.0002)
    times, o, h, l, c = bars_from_closes(np.concatenate([warm, rise, hold, fall, tail]), minutes=5)
    bars = write_mt5(folder / "bars.csv", times, o, h, l, c, spread=2)
    first, second = times[WARM], times[WARM + 36]
    e1, e2 = c[WARM - 1], top
    trades = folder / "trades.csv"
    trades.write_text(
        "open_time,symbol,direction,volume,sl,tp\n"
        f"{iso(first)},EURUSD,BUY,0.2,{e1 - 0.0020:.5f},{e1 + 0.0100:.5f}\n"
        f"{iso(second)},EURUSD,BUY,0.2,{e2 - 0.0080:.5f},{e2 + 0.0100:.5f}\n",
        encoding="utf-8",
    )
    return bars, trades
