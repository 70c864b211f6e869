"""Several symbols at once, with a symbol specification from a TOML file, on one clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.replay.runner import ReplayRequest, run_replay
from tests.replay.bars import bars_from_closes, calm, write_common, write_mt5

pytestmark = pytest.mark.slow


def test_two_symbols_replay_on_one_clock(tmp_path: Path) -> None:
    times, o, h, l, c = bars_from_closes(calm(4 * 96 + 40, step=0.0006), minutes=15, wick=0.0004)
    eurusd = write_mt5(tmp_path / "eurusd_m15.csv", times, o, h, l, c, spread=8)
    times2, o2, h2, l2, c2 = bars_from_closes(calm(8 * 24, level=1.27, seed=8, step=0.0012), minutes=60, wick=0.0008)
    ger = write_common(tmp_path / "ger40_h1.csv", times2, o2 * 1000, h2 * 1000, l2 * 1000, c2 * 1000)
    spec = tmp_path / "spec.toml"
    spec.write_text(
        "[GER40]\ndigits = 2\ncontract_size = 1.0\nvolume_min = 0.1\nvolume_step = 0.1\nspread_points = 100\n"
    )
    result = asyncio.run(
        run_replay(ReplayRequest(bars={"EURUSD": eurusd, "GER40": ger}, entries=6, seed=2, spec_file=spec))
    )
    by_symbol = {s: [t for t in result.trades if t.symbol == s] for s in ("EURUSD", "GER40")}
    assert len(by_symbol["EURUSD"]) == 3 and len(by_symbol["GER40"]) == 3
    for trade in by_symbol["GER40"]:
        i = int(np.searchsorted(times2, trade.open_time, side="right")) - 1
        bid = trade.entry - (1.0 if trade.direction == "BUY" else 0.0)  # a BUY fills at the ask, ~100 points up
        assert l2[i] * 1000 - 0.25 <= bid <= h2[i] * 1000 + 0.25
        assert trade.unmanaged_exit_time >= trade.open_time and trade.managed_exit_time >= trade.open_time
    assert [t.open_time for t in result.trades] == sorted(t.open_time for t in result.trades)
