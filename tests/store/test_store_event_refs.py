"""An event telling of an action or a state change refers to its row; reading gives the published payload."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from app.engine.model import ActionKind, ActionOutcome, ActionRecord, DefensiveState, Trade, Transition
from app.store import Repository

MakeTrade = Callable[..., Trade]


def _record(ticket: int, outcome: ActionOutcome, detail: str, retcode: int | None) -> ActionRecord:
    return ActionRecord(
        ticket=ticket,
        kind=ActionKind.PARTIAL_CLOSE,
        request={"volume": 0.05},
        outcome=outcome,
        retcode=retcode,
        detail=detail,
        at=10.0,
        wall_at=20.0,
    )


async def test_action_and_state_events_are_stored_once_and_replayed_as_published(
    repo: Repository, make_trade: MakeTrade, db_path: Path
) -> None:
    trade = make_trade(7)
    records = [
        _record(7, ActionOutcome.RETRYING, "requote " * 20, 10004),
        _record(7, ActionOutcome.SUCCESS, "closed 0.05 at 1.1032 " * 10, 10009),
    ]
    transition = Transition(
        ticket=7,
        from_state=DefensiveState.WARNING_L1,
        to_state=DefensiveState.WARNING_L2,
        reason="score -4.2 <= -4 " * 10,
        score=-4.2,
        at=10.0,
    )
    action_event = {
        "ticket": 7,
        "symbol": "EURUSD",
        "kind": "PARTIAL_CLOSE",
        "outcome": "SUCCESS",
        "retcode": 10009,
        "detail": "profit 1.50 R >= 1.5 R; " + records[1].detail,
    }
    state_event = {
        "ticket": 7,
        "symbol": "EURUSD",
        "from": "WARNING_L1",
        "to": "WARNING_L2",
        "reason": transition.reason,
        "score": -4.2,
    }
    plain_event = {"ticket": 7, "reason": "stop loss"}
    before = await repo.last_event_seq()
    actions, transitions, events = await repo.commit_records(
        trade,
        records,
        [transition],
        [("state_changed", state_event, 10.0), ("action", action_event, 10.0), ("trade_closed", plain_event, 10.0)],
    )
    assert [e.seq for e in events] == [before + 1, before + 2, before + 3]

    replayed = await repo.events_since(before)
    assert [(e.seq, e.kind, e.payload) for e in replayed] == [
        (before + 1, "state_changed", state_event),
        (before + 2, "action", action_event),
        (before + 3, "trade_closed", plain_event),
    ]

    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT kind, payload, ref_table, ref_id FROM events WHERE seq > ?", (before,)).fetchall()
    by_kind = {kind: (payload, table, ref_id) for kind, payload, table, ref_id in rows}
    assert by_kind["action"][1:] == ("actions", actions[1].id)  # the last action of its kind, not the retry
    assert by_kind["state_changed"][1:] == ("transitions", transitions[0].id)
    assert records[1].detail not in by_kind["action"][0] and transition.reason not in by_kind["state_changed"][0]
    assert by_kind["trade_closed"][1] is None
