"""Events that tell of an action or a state change name its row instead of holding a copy of it.

An ``action`` event refers to the last journaled action of its kind in the same commit, a ``state_changed``
event to its transition. Only what the row does not hold is stored in the event's payload (the symbol, and
the reason a detail starts with); reading puts the payload back together exactly as it was published, so
the stream replays what was told live. These functions run on the database thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from app.engine.model import ActionRecord, Transition
from app.store.models import ActionRow, TransitionRow

ACTIONS = "actions"
TRANSITIONS = "transitions"
_HEAD = "~detail_head"  # the event's detail is this text followed by the row's detail
_ABSENT = "~absent"  # keys the row would supply that the event did not have

Ref = tuple[str, int]


def action_payload(record: ActionRecord | dict[str, Any]) -> dict[str, Any]:
    get = record.get if isinstance(record, dict) else lambda name: getattr(record, name)
    return {
        "ticket": get("ticket"),
        "kind": str(get("kind")),
        "outcome": str(get("outcome")),
        "retcode": get("retcode"),
        "detail": get("detail"),
    }


def transition_payload(transition: Transition | dict[str, Any]) -> dict[str, Any]:
    if isinstance(transition, dict):
        return {
            "ticket": transition["ticket"],
            "from": str(transition["from_state"]),
            "to": str(transition["to_state"]),
            "reason": transition["reason"],
            "score": transition["score"],
        }
    return {
        "ticket": transition.ticket,
        "from": transition.from_state.value,
        "to": transition.to_state.value,
        "reason": transition.reason,
        "score": transition.score,
    }


def find_ref(
    kind: str, payload: dict[str, Any], actions: Sequence[ActionRecord], transitions: Sequence[Transition]
) -> tuple[Ref, dict[str, Any]] | None:
    """The row of this commit the event tells of, with the payload that row gives; None when there is none."""
    ticket = payload.get("ticket")
    if kind == "action":
        for record in reversed(actions):
            if record.id is not None and record.ticket == ticket and record.kind.value == payload.get("kind"):
                return (ACTIONS, record.id), action_payload(record)
    elif kind == "state_changed":
        for transition in reversed(transitions):
            if (
                transition.id is not None
                and transition.ticket == ticket
                and transition.to_state.value == payload.get("to")
            ):
                return (TRANSITIONS, transition.id), transition_payload(transition)
    return None


def slim(payload: dict[str, Any], derived: dict[str, Any]) -> dict[str, Any]:
    """What must be stored beside the reference so that ``expand`` gives ``payload`` back."""
    extra = {key: value for key, value in payload.items() if key not in derived or derived[key] != value}
    absent = [key for key in derived if key not in payload]
    if absent:
        extra[_ABSENT] = absent
    detail, tail = payload.get("detail"), derived.get("detail")
    if isinstance(detail, str) and isinstance(tail, str) and tail and detail != tail and detail.endswith(tail):
        del extra["detail"]
        extra[_HEAD] = detail[: -len(tail)]
    return extra


def expand(extra: dict[str, Any], derived: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as published: the row's part, then what was stored beside it. Without the row (moved to
    the archive) only the stored part is left."""
    if derived is None:
        return {k: v for k, v in extra.items() if k not in (_HEAD, _ABSENT)}
    payload = {key: value for key, value in derived.items() if key not in extra.get(_ABSENT, ())}
    for key, value in extra.items():
        if key == _HEAD:
            payload["detail"] = value + str(derived.get("detail", ""))
        elif key != _ABSENT:
            payload[key] = value
    return payload


def referenced_payloads(refs: Sequence[Ref]) -> dict[Ref, dict[str, Any]]:
    """The payloads the referenced rows give, read in one query per table."""
    found: dict[Ref, dict[str, Any]] = {}
    action_ids = [ref_id for table, ref_id in refs if table == ACTIONS]
    transition_ids = [ref_id for table, ref_id in refs if table == TRANSITIONS]
    for start in range(0, len(action_ids), 500):
        query = ActionRow.select(
            ActionRow.id, ActionRow.ticket, ActionRow.kind, ActionRow.outcome, ActionRow.retcode, ActionRow.detail
        ).where(ActionRow.id.in_(action_ids[start : start + 500]))
        for row in cast("Iterable[dict[str, Any]]", query.dicts()):  # peewee's stubs type dicts() rows as models
            found[(ACTIONS, row["id"])] = action_payload(row)
    for start in range(0, len(transition_ids), 500):
        changes = TransitionRow.select().where(TransitionRow.id.in_(transition_ids[start : start + 500]))
        for change in cast("Iterable[dict[str, Any]]", changes.dicts()):
            found[(TRANSITIONS, change["id"])] = transition_payload(change)
    return found
