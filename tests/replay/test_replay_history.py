"""``--history DAYS``: the account's closed trades and the terminal's M1 bars become a replay's inputs (checked
here against the simulator, which answers history_deals_get, history_orders_get and copy_rates_range)."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.replay.history import fetch_history
from app.replay.runner import ReplayRequest, run_replay
from app.terminal.gateway import Gateway
from app.terminal.sim.terminal import SimulatedTerminal
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import InProcessTransport

pytestmark = pytest.mark.slow
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC).timestamp()


async def _history(folder: Path) -> tuple[dict[str, Path], Path, list[dict]]:
    spec = TerminalSpec(kind=TerminalKind.SIM, data_dir=None, speed=0.0, start_time=None)
    sim = SimulatedTerminal(data_dir=None, speed=0.0, start_time=START, history_days=5)
    gateway = Gateway(spec, transport=InProcessTransport(terminal=sim))
    await gateway.start()
    assert await gateway.initialize()
    opened = []
    for side in ("BUY", "SELL"):
        tick = sim.symbol_info_tick("EURUSD")
        price = tick.ask if side == "BUY" else tick.bid
        sign = 1 if side == "BUY" else -1
        answer = sim.control(
            "open_position",
            symbol="EURUSD",
            type=side,
            volume=0.2,
            sl=round(price - sign * 0.0030, 5),
            tp=round(price + sign * 0.0060, 5),
        )
        opened.append(answer)
        sim.control("advance", seconds=3600)
    sim.control("advance", seconds=3 * 3600)
    for answer in opened:
        if sim.positions_get(ticket=answer["order"]):
            sim.control("close_position", ticket=answer["order"])
    sim.control("open_position", symbol="EURUSD", type="BUY", volume=0.1)  # still open: not replayed
    sim.control("advance", seconds=600)
    bars, trades = await fetch_history(gateway, 2, folder, now=sim.control("now"))
    await gateway.close()
    return bars, trades, opened


def test_closed_trades_and_bars_come_from_the_terminal(tmp_path: Path) -> None:
    bars, trades, opened = asyncio.run(_history(tmp_path))
    rows = list(csv.DictReader(trades.open(encoding="utf-8")))
    assert [r["direction"] for r in rows] == ["BUY", "SELL"]
    assert [float(r["sl"]) for r in rows] == [a["request"]["sl"] for a in opened]
    assert [float(r["entry"]) for r in rows] == [a["price"] for a in opened]
    assert set(bars) == {"EURUSD"} and bars["EURUSD"].read_text().startswith("<DATE>\t<TIME>")
    result = asyncio.run(run_replay(ReplayRequest(bars=bars, trades_csv=trades)))
    assert len(result.trades) == 2
    assert [t.direction for t in result.trades] == ["BUY", "SELL"]
