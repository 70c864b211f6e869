"""Retention on the real engine: closed trades older than the setting move to the yearly archive with their
journal and events; HTTP and the engine's reads (the window's detail pane and closed list) still find them;
an open trade is never touched; the event stream replays from an old Last-Event-ID with increasing ids."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
from fastapi import FastAPI

from app.api.server import ApiServer
from app.config import ApiSettings
from app.engine.defense.rules import Decision
from app.engine.events import EngineEvent
from app.engine.model import DefensiveState
from app.engine.registry import Registration
from app.runtime import Services

from .test_events import read_events

DAY = 86400.0


async def _open(services: Services, side: str = "BUY") -> int:
    result = await services.gateway.control("open_position", symbol="EURUSD", type=side, volume=0.1)
    assert result["retcode"] == 10009, result
    ticket = int(result["order"])
    await services.engine.register(Registration(ticket=ticket))
    return ticket


async def _journal_something(services: Services, ticket: int) -> None:
    """An outside SL change (an action and an event) and a state change (a transition and its event)."""
    trade = services.engine.trade(ticket)
    tick = await services.gateway.tick("EURUSD")
    sl = round(float(tick.bid) - 0.05, 5) if trade.direction.value == "BUY" else round(float(tick.ask) + 0.05, 5)
    await services.gateway.control("modify_position", ticket=ticket, sl=sl)
    await services.engine.run_fast_cycle()
    now = services.engine.clock.now()
    decision = Decision(
        ticket=ticket,
        from_state=trade.state,
        to_state=DefensiveState.WARNING_L1,
        reason="score -2.5 <= -2",
        score=-2.5,
        at=now,
    )
    data = services.engine.market.get("EURUSD")
    await services.engine.defense.carry_out(
        trade, decision, rules=data.rules, bid=data.bid, ask=data.ask, hedging_account=True
    )


def _rows(db: Path, ticket: int) -> dict[str, int]:
    with sqlite3.connect(db) as raw:
        counts = {
            table: raw.execute(f"SELECT COUNT(*) FROM {table} WHERE ticket = ?", (ticket,)).fetchone()[0]
            for table in ("trades", "actions", "transitions")
        }
        counts["events"] = raw.execute(
            "SELECT COUNT(*) FROM events WHERE json_extract(payload, '$.ticket') = ? OR "
            "(ref_table = 'actions' AND ref_id IN (SELECT id FROM actions WHERE ticket = ?)) OR "
            "(ref_table = 'transitions' AND ref_id IN (SELECT id FROM transitions WHERE ticket = ?))",
            (ticket, ticket, ticket),
        ).fetchone()[0]
    return counts


async def test_retention_moves_exactly_the_old_closed_trades_and_they_are_still_shown(
    ready: Services, api: httpx.AsyncClient, make_app: Callable[..., FastAPI]
) -> None:
    published: list[EngineEvent] = []
    ready.engine.subscribe(published.append)
    first_seq = await ready.repository.last_event_seq()
    open_trade, old, recent = await _open(ready), await _open(ready, "SELL"), await _open(ready)
    for ticket in (open_trade, old, recent):
        await _journal_something(ready, ticket)
    await ready.gateway.control("close_position", ticket=old)
    await ready.engine.run_fast_cycle()  # the closed position is archived by the engine (closed_at: now)
    await ready.gateway.control("advance", seconds=3 * DAY)
    await ready.gateway.control("close_position", ticket=recent)
    await ready.engine.run_fast_cycle()
    await ready.engine.run_fast_cycle()
    assert [t.ticket for t in ready.engine.trades()] == [open_trade]

    main = ready.repository.path
    before = {ticket: _rows(main, ticket) for ticket in (open_trade, old, recent)}
    assert all(count > 0 for count in before[old].values()) and before[open_trade]["actions"] > 0
    old_detail = (await api.get(f"/dtms/trade/{old}")).json()

    settings = ready.engine.settings
    ready.engine.update_settings(replace(settings, storage=replace(settings.storage, retention_days=2.0)))
    report = await ready.engine.housekeeping()

    assert report.trades == 1 and report.actions == before[old]["actions"]
    assert report.transitions == before[old]["transitions"] and report.events >= before[old]["events"]
    (archive,) = ready.repository.archive_paths()
    assert archive.name == "dtms-archive-2026.sqlite3" and archive.parent == main.parent
    assert _rows(main, old) == {"trades": 0, "actions": 0, "transitions": 0, "events": 0}
    assert _rows(archive, old) == before[old]
    assert _rows(main, recent) == before[recent]  # closed, but within the retention time
    assert _rows(main, open_trade) == before[open_trade]  # open, journal older than the cutoff: never touched
    assert _rows(archive, open_trade)["trades"] == 0 and _rows(archive, recent)["trades"] == 0
    with sqlite3.connect(main) as raw:
        assert raw.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental: kept compact from now on

    # HTTP reads the archived trade, its transitions and journal as before
    answer = await api.get(f"/dtms/trade/{old}")
    assert answer.status_code == 200
    assert answer.json() == old_detail
    assert answer.json()["journal"] and answer.json()["transitions"] and not answer.json()["active"]
    assert (await api.get(f"/trade-registry/{old}")).json()["symbol"] == "EURUSD"
    # so does the window: the detail pane's reads and the list of closed trades
    assert (await ready.engine.find_trade(old)).ticket == old
    assert len(await ready.engine.journal(old)) == before[old]["actions"]
    assert len(await ready.engine.transitions(old)) == before[old]["transitions"]
    closed = await ready.repository.load_closed_since(0.0)
    assert [t.ticket for t in closed] == [old, recent]

    # the export has every trade, the archived one from its archive, each with its journal
    exported = ready.data_dir / "export.jsonl"
    assert await ready.repository.export(exported) == 3
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    by_ticket = {line["trade"]["ticket"]: line for line in lines}
    assert by_ticket[old]["source"] == archive.name and by_ticket[recent]["source"] == main.name
    assert len(by_ticket[old]["actions"]) == before[old]["actions"]
    assert len(by_ticket[old]["transitions"]) == before[old]["transitions"]

    # a second pass moves nothing; new events keep increasing ids
    assert (await ready.engine.housekeeping()).moved == 0

    # the stream replays from an old Last-Event-ID: what is left, in order, with the payloads told live
    server = ApiServer(make_app(ready), ApiSettings(port=0))
    await server.start()
    try:
        left = await ready.repository.events_since(first_seq, limit=10_000)
        replayed = await read_events(server, len(left), headers={"Last-Event-ID": str(first_seq)})
    finally:
        await server.stop()
    ids = [int(e["id"]) for e in replayed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > first_seq
    live = {e.seq: e for e in published if e.seq is not None}
    for event in replayed:
        assert event["data"]["payload"].get("ticket") != old
        told = live.get(int(event["id"]))
        if told is not None:
            assert event["event"] == told.kind.value and event["data"]["payload"] == told.payload
    kinds = {e["event"] for e in replayed}
    assert {"action", "state_changed", "trade_closed"} <= kinds
