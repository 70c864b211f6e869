"""The database damaged while running (WAL checkpointed, then the middle third of the file overwritten): no
200 for anything not stored, the endpoint says 503 and why, protection of managed trades goes on (journaled
aside), and after a restart every acknowledged ticket is managed again."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx

from app.api.app import close_app, create_app
from app.config import ApiSettings, AppSettings
from app.engine.model import ActionKind, Direction, Trade, TradeSource
from app.engine.settings import AdoptionPolicy, AdoptionSettings, EngineSettings
from app.runtime import RuntimeOptions, Services
from app.store.side_journal import SideKind
from app.terminal.spec import TerminalKind
from tests.engine.conftest import managed

from .conftest import SIM_START, client_for

SETTINGS = AppSettings(engine=EngineSettings(adoption=AdoptionSettings(policy=AdoptionPolicy.NONE)))


async def _no_sleep(_: float) -> None:
    return None


async def open_services(data_dir: Path) -> Services:
    options = RuntimeOptions(
        data_dir=data_dir,
        settings=SETTINGS,
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=SIM_START,
        in_process=True,
    )
    return await Services.open(options, sleep=_no_sleep, autorun=False)


def damage(database: Path) -> None:
    """What a failing disk does: the WAL folded into the file, then a third of the file overwritten."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 3)
        file.write(os.urandom(size // 3))


async def buy(api: httpx.AsyncClient) -> int:
    order = await api.post(
        "/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 1}
    )
    assert order.json()["retcode"] == 10009
    return int(order.json()["order"])


async def enable(api: httpx.AsyncClient, ticket: int) -> httpx.Response:
    return await api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"})


async def test_damage_while_running_acknowledges_nothing_that_is_not_stored(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    app = create_app(services, replace(ApiSettings()))
    acknowledged: list[int] = []
    refused: list[int] = []
    try:
        async with client_for(app) as api:
            for _ in range(3):
                ticket = await buy(api)
                assert (await enable(api, ticket)).status_code == 200
                acknowledged.append(ticket)
            assert await services.engine.backup_database()  # the periodic backup; later owners are in the journal
            # a filler of stored rows, so the overwritten third hits table pages
            await services.repository.save_trades(
                [replace(managed(services, acknowledged[0]), ticket=10_000 + n, active=False) for n in range(300)]
            )
            damage(tmp_path / "dtms.sqlite3")
            for _ in range(4):  # whatever SQLite notices first: each answer is 200 and stored, or 503
                ticket = await buy(api)
                answer = await enable(api, ticket)
                assert answer.status_code in (200, 503), answer.text
                (acknowledged if answer.status_code == 200 else refused).append(ticket)
            assert await services.engine.check_database(), "the integrity check finds the damage"

            health = await api.get("/health")
            assert health.status_code == 503 and "database" in health.json()["reason"]
            assert health.json()["database_problem"]
            dtms_health = await api.get("/dtms/health")
            assert dtms_health.status_code == 503 and "database" in dtms_health.json()["reason"]
            assert services.engine.health().database_problem

            ticket = await buy(api)
            for _ in range(2):  # the retry does the whole registration again, and is refused again
                answer = await enable(api, ticket)
                assert answer.status_code == 503 and "database" in answer.json()["detail"]
                assert services.engine.trade(ticket) is None, "refused, yet in memory"
            refused.append(ticket)
            release = await api.post("/dtms/trade/disable", json={"ticket": acknowledged[0]})
            assert release.status_code == 503
            assert services.engine.trade(acknowledged[0]) is not None
            detail = await api.get(f"/dtms/trade/{acknowledged[1]}")
            assert detail.status_code in (200, 503)

            # protection goes on: a move far into profit still takes the partial in the terminal
            target = services.engine.trade(acknowledged[1])
            await services.gateway.control(
                "set_price", symbol="EURUSD", bid=target.entry + 0.02, ask=target.entry + 0.0201
            )
            await services.engine.step()
            (position,) = await services.gateway.positions(ticket=acknowledged[1])
            assert position.volume < 0.1, "the partial was not taken while degraded"
            aside = [body for kind, body in services.repository.side.records() if kind is SideKind.ACTION]
            assert any(
                a["values"]["ticket"] == acknowledged[1] and a["values"]["kind"] == ActionKind.PARTIAL_TAKE
                for a in aside
            ), "the partial take was not journaled aside"
    finally:
        await close_app(app)
        await services.close()

    again = await open_services(tmp_path)
    try:
        assert again.repository.recovered_from is not None and again.repository.restored_from is not None
        assert await again.engine.start()
        for ticket in acknowledged:
            trade = again.engine.trade(ticket)
            assert trade is not None and trade.managed_by == "DTMS", f"acknowledged ticket {ticket} lost"
        for ticket in refused:
            assert again.engine.trade(ticket) is None, f"refused ticket {ticket} is managed"
        journal = await again.engine.journal(acknowledged[1])
        assert any(a.kind is ActionKind.PARTIAL_TAKE for a in journal), "the partial taken while degraded is lost"
    finally:
        await again.close()


async def test_a_read_only_database_refuses_the_commit_and_nothing_enters_memory(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    app = create_app(services, ApiSettings())
    try:
        async with client_for(app) as api:
            stored = await buy(api)
            assert (await enable(api, stored)).status_code == 200
            repository = services.repository
            await repository._run(lambda: repository._db.execute_sql("PRAGMA query_only = ON"))  # a read-only file
            ticket = await buy(api)
            answer = await enable(api, ticket)
            assert answer.status_code == 503 and "read-only" in answer.json()["detail"], answer.text
            assert services.engine.trade(ticket) is None
            assert "read-only" in services.engine.health().database_problem
            health = await api.get("/health")
            assert health.status_code == 503 and "read-only" in health.json()["reason"]
            release = await api.post("/dtms/trade/disable", json={"ticket": stored})
            assert release.status_code == 503 and services.engine.trade(stored) is not None
    finally:
        await close_app(app)
        await services.close()


async def test_damage_to_the_wal_alone_is_found_while_running(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    try:
        template = archived_trade()
        await services.repository.save_trades([replace(template, ticket=20_000 + n) for n in range(2_000)])
        wal = tmp_path / "dtms.sqlite3-wal"
        size = wal.stat().st_size
        with open(wal, "r+b") as file:  # noqa: ASYNC230 (only the WAL is damaged, the file is untouched)
            file.seek(size // 3)
            file.write(os.urandom(size // 3))
        assert services.engine.health().database_problem == ""
        assert await services.engine.check_database()
        assert "damaged" in services.engine.health().database_problem
    finally:
        await services.close()


def archived_trade() -> Trade:
    return Trade(
        ticket=1,
        symbol="EURUSD",
        direction=Direction.BUY,
        entry=1.1,
        volume=0.1,
        sl=1.09,
        tp=1.12,
        magic=0,
        comment="",
        opened_at=1.0,
        sent={},
        managed_by="DTMS",
        strategy_type=None,
        source=TradeSource.REGISTERED,
        registered_at=1.0,
        initial_sl=1.09,
        initial_volume=0.1,
        r=0.01,
        synthetic_r=False,
        breakeven_triggered=False,
        state_since=1.0,
        active=False,
    )
