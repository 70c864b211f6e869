"""Kill -9 of the whole program while bots register over HTTP: after a restart every registration that was
answered 200, and every stop of management that was answered 200, is still there."""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.test_headless_process import running

from .conftest import open_services

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]


def register_until_stopped(url: str, stop: threading.Event, acked: list[int], released: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=5) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                opened = client.post("/sim/order_send", json={
                    "action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1})
                ticket = opened.json()["order"]
                answer = client.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD",
                                                                 "direction": "BUY"})
                if answer.status_code == 200:
                    acked.append(ticket)
                if n % 3 == 0 and client.post("/dtms/trade/disable", json={"ticket": ticket}).status_code == 200:
                    released.append(ticket)
            except (httpx.HTTPError, KeyError, ValueError):
                return  # the program was killed mid-request


async def test_acknowledged_http_registrations_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(11)
    acked: list[int] = []
    released: list[int] = []
    for _ in range(2):
        with running(tmp_path) as (program, ready_client):
            url = str(ready_client.base_url)
            stop = threading.Event()
            bot = threading.Thread(target=register_until_stopped, args=(url, stop, acked, released))
            bot.start()
            time.sleep(rng.uniform(0.5, 1.5))
            program.process.kill()  # SIGKILL
            program.process.wait(timeout=10)
            stop.set()
            bot.join(timeout=10)
    assert acked, "registrations were answered before the kill"
    services = await open_services(tmp_path)
    try:
        for ticket in acked:
            assert await services.repository.load_trade(ticket) is not None, f"answered registration {ticket} lost"
        for ticket in released:
            stored = await services.repository.load_trade(ticket)
            assert stored is not None and not stored.active, f"answered disable of {ticket} lost"
    finally:
        await services.close()
