"""Conversions between the engine's dataclasses and row values.

The ``*_values`` functions take a snapshot on the caller's thread (the event loop): the engine may change a
``Trade`` or reuse a request dict the moment it has handed it over, so what is written is what was passed,
not whatever the object holds when the database thread gets to it. JSON is encoded as part of the snapshot.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from peewee import Field

from app.engine.model import ActionRecord, StoredEvent, Trade, Transition
from app.store.models import TradeRow

TRADE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Trade))
# Fails at import if the model lacks a field of Trade: nothing is ever silently not persisted.
TRADE_COLUMNS: tuple[Field, ...] = tuple(TradeRow._meta.fields[name] for name in TRADE_FIELDS)
_trade_getter = attrgetter(*TRADE_FIELDS)
_JSON_FIELDS = tuple(TRADE_FIELDS.index(name) for name in ("sent", "cannot"))


def _plain(value: Any) -> Any:
    # numpy scalars (prices computed from rate arrays) turn into the Python number they hold
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_encoder = json.JSONEncoder(separators=(",", ":"), default=_plain)


def encode_json(value: Any) -> str:
    """Compact JSON; NaN and infinities are kept (Python reads them back), numpy scalars become numbers."""
    return _encoder.encode(value)


def decode_json(text: str) -> Any:
    return json.loads(text)


def trade_values(trade: Trade) -> tuple[Any, ...]:
    """The trade's column values in ``TRADE_COLUMNS`` order."""
    values = list(_trade_getter(trade))
    for index in _JSON_FIELDS:
        values[index] = encode_json(values[index])
    return tuple(values)


def trade_from_values(values: Sequence[Any]) -> Trade:
    fields = dict(zip(TRADE_FIELDS, values, strict=True))
    fields["sent"] = decode_json(fields["sent"])
    fields["cannot"] = decode_json(fields["cannot"])
    return Trade(**fields)


def action_values(record: ActionRecord) -> dict[str, Any]:
    return {
        "ticket": record.ticket,
        "kind": record.kind,
        "request": encode_json(record.request),
        "outcome": record.outcome,
        "retcode": record.retcode,
        "comment": record.comment,
        "attempt": record.attempt,
        "detail": record.detail,
        "at": record.at,
        "wall_at": record.wall_at,
    }


def action_from_row(row: dict[str, Any]) -> ActionRecord:
    return ActionRecord(**{**row, "request": decode_json(row["request"])})


def transition_values(transition: Transition) -> dict[str, Any]:
    return {
        "ticket": transition.ticket,
        "from_state": transition.from_state,
        "to_state": transition.to_state,
        "reason": transition.reason,
        "score": transition.score,
        "at": transition.at,
    }


def transition_from_row(row: dict[str, Any]) -> Transition:
    return Transition(**row)


def event_from_row(row: dict[str, Any]) -> StoredEvent:
    return StoredEvent(**{**row, "payload": decode_json(row["payload"])})
