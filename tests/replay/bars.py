"""Scripted bar files for the replay tests, made here (no third-party data in the repository)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

START = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)  # a Monday


def write_common(path: Path, times: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray) -> Path:
    rows = ["Date,Open,High,Low,Close,Volume"]
    for t, a, b, d, e in zip(times, o, h, l, c, strict=True):
        stamp = datetime.fromtimestamp(int(t), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"{stamp},{a:.5f},{b:.5f},{d:.5f},{e:.5f},100")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_mt5(
    path: Path, times: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray, spread: int = 1
) -> Path:
    rows = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for t, a, b, d, e in zip(times, o, h, l, c, strict=True):
        when = datetime.fromtimestamp(int(t), tz=UTC)
        rows.append(f"{when:%Y.%m.%d}\t{when:%H:%M:%S}\t{a:.5f}\t{b:.5f}\t{d:.5f}\t{e:.5f}\t60\t0\t{spread}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def bars_from_closes(
    closes: np.ndarray, *, minutes: int, seed: int = 5, wick: float = 0.00004, start: datetime = START
) -> tuple[np.ndarray, ...]:
    """Bars whose opens are the previous closes, with seeded wicks; times every ``minutes`` from ``start``."""
    rng = np.random.default_rng(seed)
    c = np.round(closes, 5)
    o = np.concatenate(([c[0]], c[:-1]))
    h = np.round(np.maximum(o, c) + wick * rng.random(len(c)), 5)
    l = np.round(np.minimum(o, c) - wick * rng.random(len(c)), 5)
    times = int(start.timestamp()) + 60 * minutes * np.arange(len(c), dtype=np.int64)
    return times, o, h, l, c


def calm(count: int, *, level: float = 1.1, seed: int = 3, step: float = 0.00005) -> np.ndarray:
    """A quiet, mean-reverting path around ``level``."""
    rng = np.random.default_rng(seed)
    x = np.empty(count)
    v = level
    for i in range(count):
        v += step * rng.standard_normal() - 0.02 * (v - level)
        x[i] = v
    return x
