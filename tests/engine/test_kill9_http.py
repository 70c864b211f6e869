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
                opened = client.post(
                    "/sim/order_send",
                    json={"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1},
                )
                ticket = opened.json()["order"]
                answer = client.post(
                    "/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"}
                )
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


def damage(database: Path, rng: random.Random) -> None:
    """A failing disk between two runs: the WAL folded in, then the middle third of the file overwritten."""
    import sqlite3

    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 3)
        file.write(rng.randbytes(size // 3))


def register_mixed_until_stopped(
    url: str, stop: threading.Event, acked: dict[int, str], released: list[int], opened: list[int], asked: list[int]
) -> None:
    """Some trades for DTMS, some for another manager ("grid"), every third released again."""
    with httpx.Client(base_url=url, timeout=5) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                ticket = client.post(
                    "/sim/order_send",
                    json={"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1},
                ).json()["order"]
                opened.append(ticket)
                owner = "grid" if n % 2 else "DTMS"
                body = {"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"}
                if owner == "grid":
                    body["strategy_type"] = "grid"
                if client.post("/dtms/trade/enable", json=body).status_code == 200:
                    acked[ticket] = owner
                if n % 3 == 0:
                    asked.append(ticket)  # a release whose answer the kill cut off may or may not be stored
                    if client.post("/dtms/trade/disable", json={"ticket": ticket}).status_code == 200:
                        released.append(ticket)
            except (httpx.HTTPError, KeyError, ValueError):
                return


async def test_sigkill_and_a_damaged_database_between_rounds_lose_no_acknowledged_owner(tmp_path: Path) -> None:
    rng = random.Random(1111)
    acked: dict[int, str] = {}
    released: list[int] = []
    opened: list[int] = []
    asked: list[int] = []
    for round_ in range(2):
        if round_:
            damage(tmp_path / "dtms.sqlite3", rng)
        with running(tmp_path) as (program, ready_client):
            stop = threading.Event()
            bot = threading.Thread(
                target=register_mixed_until_stopped,
                args=(str(ready_client.base_url), stop, acked, released, opened, asked),
            )
            bot.start()
            time.sleep(rng.uniform(0.8, 1.5))
            program.process.kill()
            program.process.wait(timeout=10)
            stop.set()
            bot.join(timeout=10)
    damage(tmp_path / "dtms.sqlite3", rng)
    assert acked and released and len(set(acked.values())) == 2
    services = await open_services(tmp_path)
    try:
        assert services.repository.recovered_from is not None
        assert await services.engine.start()
        lost = [t for t in acked if await services.repository.load_trade(t) is None]
        assert lost == [], f"{len(lost)} acknowledged registrations lost"
        for ticket in released:
            stored = await services.repository.load_trade(ticket)
            assert stored is not None and not stored.active, f"acknowledged release of {ticket} lost"
            assert services.engine.trade(ticket) is None, f"released ticket {ticket} taken over again"
        not_ours = {t for t, owner in acked.items() if owner == "grid"} | set(released)
        for ticket in not_ours - set(asked):
            trade = services.engine.trade(ticket)
            assert trade is not None and trade.managed_by == "grid", f"{ticket} changed owner"
        grid = {t for t, owner in acked.items() if owner == "grid"}  # never DTMS's, released or not
        changed = []
        for ticket in not_ours:
            stored = await services.repository.load_trade(ticket)
            since = None if ticket in grid or stored is None or stored.active else stored.closed_at
            if any(since is None or a.at > since for a in await services.engine.journal(ticket)):
                changed.append(ticket)
        assert changed == [], f"DTMS acted on positions it did not own: {changed}"
        for position in await services.gateway.positions():
            if int(position.ticket) in grid:
                assert float(position.sl) == 0.0 and float(position.volume) == 0.01
    finally:
        await services.close()
