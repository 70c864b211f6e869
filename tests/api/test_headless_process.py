"""``python main.py --headless`` as a separate process: a trade registered over HTTP survives SIGTERM and a restart."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")]


def headless_command(data_dir: Path) -> list[str]:
    """The headless program on the simulator, its data and settings in ``data_dir``, on a free port."""
    return [
        sys.executable,
        str(ROOT / "main.py"),
        "--headless",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--terminal",
        "sim",
        "--config",
        str(data_dir / "absent.toml"),
    ]


class Program:
    def __init__(self, data_dir: Path) -> None:
        self.process = subprocess.Popen(
            headless_command(data_dir),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            self.output.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no {pattern.pattern!r} within {timeout} s:\n{''.join(self.output)}")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return code


@contextmanager
def running(data_dir: Path) -> Iterator[tuple[Program, httpx.Client]]:
    program = Program(data_dir)
    try:
        url = program.wait_for(LISTENING).group(1)
        with httpx.Client(base_url=url, timeout=10) as client:
            deadline = time.monotonic() + 30
            while client.get("/health").status_code != 200:
                assert time.monotonic() < deadline, "DTMS did not become ready"
                time.sleep(0.05)
            yield program, client
    finally:
        if program.process.poll() is None:
            program.process.kill()
            program.process.wait()


def test_a_registered_trade_survives_sigterm_and_restart(tmp_path: Path) -> None:
    with running(tmp_path) as (program, api):
        order = api.post(
            "/sim/order_send",
            json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 1, "sl": 1.0},
        )
        assert order.status_code == 200 and order.json()["retcode"] == 10009
        ticket = order.json()["order"]
        enable = api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "buy"})
        assert enable.status_code == 200 and enable.json()["already_registered"] is False
        before = api.get(f"/dtms/trade/{ticket}").json()
        assert program.terminate() == 0
        assert any("stopped" in line for line in program.output)

    with running(tmp_path) as (program, api):
        detail = api.get(f"/dtms/trade/{ticket}")
        assert detail.status_code == 200
        trade = detail.json()
        assert (trade["active"], trade["symbol"], trade["direction"]) == (True, "EURUSD", "BUY")
        # the engine runs on: the state is the one it had, or one reached by transitions recorded since
        kept = len(before["transitions"])
        assert trade["transitions"][:kept] == before["transitions"]
        if len(trade["transitions"]) == kept:
            assert (trade["state"], trade["state_since"]) == (before["state"], before["state_since"])
        else:
            assert trade["state"] == trade["transitions"][-1]["to_state"]
        assert trade["initial_sl"] == 1.0 and trade["sent"]["direction"] == "BUY"
        assert ticket in [t["ticket"] for t in api.get("/dtms/trades").json()["trades"]]
        assert ticket in [p["ticket"] for p in api.get("/sim/positions").json()]
        again = api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"})
        assert again.status_code == 200 and again.json()["already_registered"] is True
        assert program.terminate() == 0
