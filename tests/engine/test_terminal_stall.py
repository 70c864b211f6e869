"""A terminal that hangs inside a call (holding its GIL, as the MetaTrader5 module does) is shown as "not
answering" while it hangs: /health and /dtms/health answer 503 with the reason and the seconds, well before
the watchdog's 10 s deadline, and healthy again once the call returns."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.api.test_headless_process import running

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")]

BLOCK_S = 5.0


def test_a_five_second_block_shows_not_answering_while_it_lasts(tmp_path: Path) -> None:
    with running(tmp_path) as (_program, api):
        assert api.post("/sim/faults", json={"kind": "block", "seconds": BLOCK_S}).status_code == 200
        armed = time.monotonic()
        while True:
            health = api.get("/health")
            if health.status_code == 503:
                break
            # the block starts at the next cycle's call (within 1 s); the threshold is 2 s
            assert time.monotonic() - armed < BLOCK_S - 0.5, "the hang was not shown while it lasted"
            time.sleep(0.05)
        body = health.json()
        assert "not answering" in body["reason"] and body["status"] == "degraded"
        assert body["terminal_stall_s"] >= 2.0
        dtms = api.get("/dtms/health")
        assert dtms.status_code == 503 and "not answering" in dtms.json()["reason"]
        deadline = time.monotonic() + 15
        while api.get("/health").status_code != 200:  # the call returns: answering again, same connection
            assert time.monotonic() < deadline, "still not answering after the block ended"
            time.sleep(0.1)
        assert api.get("/health").json()["epoch"] == body["epoch"], "the worker was replaced"
