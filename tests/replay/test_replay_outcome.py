"""A trade's unmanaged outcome in trades.csv, against a computation made here from the bars alone."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.replay.results import iso
from tests.replay.bars import bars_from_closes, calm, write_mt5

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
POINT = 0.00001
CONTRACT = 100_000.0


def _first_reach(times, o, h, l, *, level: float, rising: bool, offset: float, after: float):
    """The first M1 bar at or after ``after`` whose price (+ ``offset``) reaches ``level``, and the furthest
    price a stop can slip to there (its open if it opens beyond the level, else the extreme that reached it)."""
    for t, a, b, d in zip(times, o, h, l, strict=True):
        if t + 60 <= after:
            continue
        if rising and b + offset >= level:
            return t, (a if a + offset >= level else b) + offset
        if not rising and d + offset <= level:
            return t, (a if a + offset <= level else d) + offset
    return None


def test_unmanaged_exits_match_the_bars(tmp_path: Path) -> None:
    warm = calm(3 * 24 * 60, step=0.00003)
    level = warm[-1]
    up = level + np.linspace(0, 0.0060, 240) + 0.00002 * np.sin(np.arange(240))  # a steady climb over 4 hours
    rest = calm(600, level=up[-1], seed=4, step=0.00003)
    times, o, h, l, c = bars_from_closes(np.concatenate([warm, up, rest]), minutes=1, wick=0.00002)
    bars = write_mt5(tmp_path / "m1.csv", times, o, h, l, c, spread=1)
    start = times[len(warm)]
    entry_buy, entry_sell = o[len(warm)] + POINT, o[len(warm)]  # a BUY fills at the ask, a SELL at the bid
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "open_time,symbol,direction,volume,sl,tp\n"
        f"{iso(start)},EURUSD,BUY,0.3,{entry_buy - 0.0030:.5f},{entry_buy + 0.0040:.5f}\n"
        f"{iso(start)},EURUSD,SELL,0.2,{entry_sell + 0.0025:.5f},{entry_sell - 0.0050:.5f}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--data-dir",
            str(tmp_path / "data"),
            "replay",
            "--bars",
            f"EURUSD={bars}",
            "--trades",
            str(trades),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "trades.csv").open(encoding="utf-8")))
    buy, sell = rows
    # the BUY's take profit: the bid reaches it
    at, price = _first_reach(times, o, h, l, level=entry_buy + 0.0040, rising=True, offset=0.0, after=start)
    assert buy["unmanaged_exit_reason"] == "tp"
    assert float(buy["entry"]) == pytest.approx(entry_buy, abs=1e-9)
    filled = float(buy["unmanaged_exit_price"])
    assert entry_buy + 0.0040 - 1e-9 <= filled <= price + 1e-9
    assert iso(at) <= buy["unmanaged_exit_time"] < iso(at + 60)
    assert float(buy["unmanaged_profit"]) == pytest.approx(round((filled - entry_buy) * 0.3 * CONTRACT, 2), abs=0.011)
    assert float(buy["unmanaged_r"]) == pytest.approx((filled - entry_buy) / 0.0030, abs=1e-3)
    # the SELL's stop loss: the ask (bid + 1 point) rises to it
    at, price = _first_reach(times, o, h, l, level=entry_sell + 0.0025, rising=True, offset=POINT, after=start)
    assert sell["unmanaged_exit_reason"] == "sl"
    filled = float(sell["unmanaged_exit_price"])
    assert entry_sell + 0.0025 - 1e-9 <= filled <= price + 1e-9
    assert iso(at) <= sell["unmanaged_exit_time"] < iso(at + 60)
    assert float(sell["unmanaged_profit"]) == pytest.approx(round((entry_sell - filled) * 0.2 * CONTRACT, 2), abs=0.011)
    assert float(sell["unmanaged_r"]) == pytest.approx((entry_sell - filled) / 0.0025, abs=1e-3)
    highest_ask = max(h[(times + 60 > start) & (times <= at)]) + POINT
    assert float(sell["unmanaged_mae_r"]) == pytest.approx((entry_sell - highest_ask) / 0.0025, abs=1e-3)
    at_tp = _first_reach(times, o, h, l, level=entry_buy + 0.0040, rising=True, offset=0.0, after=start)[0]
    lowest_bid = min(l[(times + 60 > start) & (times <= at_tp)])
    assert float(buy["unmanaged_mae_r"]) == pytest.approx(min(0.0, lowest_bid - entry_buy) / 0.0030, abs=1e-3)
