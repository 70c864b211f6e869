"""Kill -9 at random moments: after a restart no acknowledged registration and no acknowledged state change
is missing (the database commits before anyone is told)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import open_services

ROOT = Path(__file__).resolve().parents[2]


def run_child_and_kill(data_dir: Path, after_s: float) -> tuple[set[int], set[int]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.kill_child", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    acked: set[int] = set()
    changed: set[int] = set()
    assert child.stdout is not None
    ready_line = child.stdout.readline()
    assert ready_line.strip() == "READY", ready_line
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    time.sleep(after_s)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    reader.join(timeout=10)
    for line in lines:
        word, _, value = line.strip().partition(" ")
        if word == "ACK":
            acked.add(int(value))
        elif word == "STATE":
            changed.add(int(value))
    return acked, changed


@pytest.mark.slow
async def test_no_acknowledged_registration_or_state_change_is_lost(tmp_path: Path) -> None:
    rng = random.Random(7)
    all_acked: set[int] = set()
    all_changed: set[int] = set()
    for _ in range(3):
        acked, changed = run_child_and_kill(tmp_path, rng.uniform(0.3, 1.2))
        all_acked |= acked
        all_changed |= changed
        services = await open_services(tmp_path)
        try:
            for ticket in all_acked:
                stored = await services.repository.load_trade(ticket)
                assert stored is not None, f"acknowledged registration {ticket} lost"
            for ticket in all_changed:
                stored = await services.repository.load_trade(ticket)
                assert stored is not None and not stored.active, f"acknowledged unregister of {ticket} lost"
        finally:
            await services.close()
    assert len(all_acked) >= 3, "the child registered trades before it was killed"
