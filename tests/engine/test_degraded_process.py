"""The program with its database damaged while it runs: it says so (503 with the reason), refuses new
registrations, and still stops cleanly on SIGTERM (exit code 0)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from tests.api.test_headless_process import running
from tests.engine.test_kill9_http import damage

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")]


def test_a_database_damaged_while_running_is_shown_and_sigterm_still_exits_cleanly(tmp_path: Path) -> None:
    with running(tmp_path) as (program, api):
        tickets = []
        for _ in range(30):  # enough rows that the overwritten third holds some
            order = api.post(
                "/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1}
            ).json()
            tickets.append(order["order"])
            assert (
                api.post(
                    "/dtms/trade/enable", json={"ticket": order["order"], "symbol": "EURUSD", "direction": "BUY"}
                ).status_code
                == 200
            )
        damage(tmp_path / "dtms.sqlite3", random.Random(5))
        reads = [api.get(f"/dtms/trade/{ticket}").status_code for ticket in tickets]  # journal reads meet the damage
        assert 500 not in reads
        assert api.get("/dtms/actions").status_code in (200, 503)
        health = api.get("/health")
        assert health.status_code == 503 and "database" in health.json()["reason"], health.text
        order = api.post(
            "/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1}
        ).json()
        refused = api.post(
            "/dtms/trade/enable", json={"ticket": order["order"], "symbol": "EURUSD", "direction": "BUY"}
        )
        assert refused.status_code == 503
        assert program.terminate() == 0
    assert any("database degraded" in line for line in program.output)
