"""One desk per data dir and per account: a second desk is refused (exit code 2, naming the running one) and
acts on nothing, so a price move gives one breakeven and one partial take, not two of each."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.desk_lock import DeskAlreadyRunning, acquire, release
from tests.api.test_headless_process import ROOT, Program, headless_command, running

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")]


def second_desk(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        headless_command(data_dir),
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_desk_on_the_same_data_dir_is_refused_and_acts_on_nothing(tmp_path: Path) -> None:
    with running(tmp_path) as (program, api):
        order = api.post(
            "/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 1}
        )
        ticket = order.json()["order"]
        assert (
            api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"}).status_code
            == 200
        )
        log = tmp_path / "dtms-desk.log"
        log_before = log.read_bytes()

        refused = second_desk(tmp_path)

        assert refused.returncode == 2
        assert f"pid {program.process.pid}" in refused.stderr and str(tmp_path) in refused.stderr
        assert log.read_bytes()[: len(log_before)] == log_before
        assert "DTMS Desk starting" not in log.read_text()[len(log_before.decode()) :], "the refused desk wrote"
        # one price move far into profit: the running desk alone acts, once
        entry = api.get(f"/dtms/trade/{ticket}").json()["entry"]
        api.post("/sim/ticks", json={"symbol": "EURUSD", "bid": entry + 0.02, "ask": entry + 0.0201})
        deadline = time.monotonic() + 20

        def volumes() -> list[float]:  # of this ticket (the demo bot's trades may be open beside it)
            return [p["volume"] for p in api.get("/sim/positions").json() if p["ticket"] == ticket]

        while volumes()[0] > 0.05 + 1e-9:
            assert time.monotonic() < deadline, "the running desk did not take its partial"
            time.sleep(0.1)
        kinds = [
            a["kind"]
            for a in api.get("/dtms/actions").json()["actions"]
            if a["ticket"] == ticket and a["outcome"] == "SUCCESS"
        ]
        assert kinds.count("PARTIAL_TAKE") == 1
        assert kinds.count("BREAKEVEN") <= 1
        assert volumes() == [0.05]


def test_a_second_desk_on_the_same_account_from_another_data_dir_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    with running(first) as (program, _api):
        refused = Program(second)
        code = refused.process.wait(timeout=60)
        time.sleep(0.2)  # the reader thread hands over the last lines
        while not refused.lines.empty():
            refused.output.append(refused.lines.get())
    assert code == 2
    text = "".join(refused.output)
    assert f"pid {program.process.pid}" in text and str(first) in text and "account 5000123" in text


def test_two_simulators_never_share_one_broker_state(tmp_path: Path) -> None:
    held = acquire(tmp_path / "sim_broker.lock", "the simulated broker", {"data_dir": str(tmp_path)})
    try:
        script = textwrap.dedent(f"""
            from pathlib import Path
            import app.terminal.sim.store as store
            store.LOCK_WAIT_S = 0.2
            store.BrokerStore(Path({str(tmp_path)!r}))
        """)
        child = subprocess.run(
            [sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    finally:
        release(held)
    assert child.returncode != 0
    assert DeskAlreadyRunning.__name__ in child.stderr
    assert not (tmp_path / "sim_broker.sqlite3").exists(), "the refused simulator opened the broker's state"
