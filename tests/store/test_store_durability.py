"""A write the repository acknowledged survives the program being killed at any moment."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.store import Repository

ROOT = Path(__file__).resolve().parents[2]

# Writes trades in the three ways the engine does, and prints "<ticket> <how>" only after the write returned.
WRITER = """
import asyncio, sys
from pathlib import Path
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Direction, Trade
from app.store import Repository

def trade(ticket):
    return Trade(ticket=ticket, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=ticket / 100,
                 sl=1.0, tp=1.2)

async def main(path):
    repository = await Repository.open(Path(path))
    print("ready", flush=True)
    ticket = 0
    while True:
        ticket += 1
        if ticket % 3 == 0:
            record = ActionRecord(ticket=ticket, kind=ActionKind.BREAKEVEN, request={"sl": 1.1},
                                  outcome=ActionOutcome.SUCCESS, retcode=10009)
            await repository.save_trade_with_records(trade(ticket), actions=[record])
            print(ticket, "journal", flush=True)
        elif ticket % 3 == 1:
            await repository.save_trade(trade(ticket))
            print(ticket, "single", flush=True)
        else:
            batch = [trade(ticket + k) for k in range(25)]
            await repository.save_trades(batch)
            sys.stdout.write("".join(f"{t.ticket} batch\\n" for t in batch))
            sys.stdout.flush()
            ticket += 25

asyncio.run(main(sys.argv[1]))
"""


def run_and_kill(path: Path, delay: float) -> list[tuple[int, str]]:
    """Starts the writer, kills it ``delay`` seconds after it is ready; returns what it acknowledged."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line == "ready\n":
                ready.set()
            else:
                lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(timeout=30), "the writer did not start"
        threading.Event().wait(delay)
    finally:
        process.kill()  # SIGKILL: no clean-up, no checkpoint, no flush
        process.wait(timeout=10)
        reader.join(timeout=10)
    acknowledged = []
    for line in lines:
        if line.endswith("\n"):  # a line cut by the kill was never acknowledged
            ticket, how = line.split()
            acknowledged.append((int(ticket), how))
    return acknowledged


async def stored(path: Path) -> tuple[Path | None, dict[int, float], set[int]]:
    repository = await Repository.open(path)
    try:
        trades = {t.ticket: t.volume for t in await repository.load_active_trades()}
        journalled = {record.ticket for record in await repository.actions(limit=100_000)}
        return repository.recovered_from, trades, journalled
    finally:
        await repository.close()


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_every_acknowledged_write_survives_sigkill(tmp_path: Path, run: int) -> None:
    delay = random.uniform(0.05, 0.8)
    path = tmp_path / "killed.db"
    acknowledged = run_and_kill(path, delay)
    assert acknowledged, f"nothing was written in {delay:.3f} s"

    recovered_from, trades, journalled = asyncio.run(stored(path))
    assert recovered_from is None
    missing = [ticket for ticket, _ in acknowledged if ticket not in trades]
    assert missing == [], f"killed after {delay:.3f} s: acknowledged but lost"
    assert all(trades[ticket] == ticket / 100 for ticket, _ in acknowledged)
    assert {ticket for ticket, how in acknowledged if how == "journal"} <= journalled
