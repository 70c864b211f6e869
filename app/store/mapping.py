"""Conversions between the engine's dataclasses and row values.

The ``*_values`` functions take a snapshot on the caller's thread (the event loop): the engine may change a
``Trade`` or reuse a request dict the moment it has handed it over, so what is written is what was passed,
not whatever the object holds when the database thread gets to it. JSON is encoded as part of the snapshot.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from operator import attrgetter
from typing import Any

from peewee import BooleanField, Field, FloatField, IntegerField, TextField
from playhouse.fields import EnumField

from app.engine.model import ActionRecord, BatchItem, StoredEvent, Trade, Transition
from app.sharing import Shared
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
        value = values[index]
        values[index] = "{}" if type(value) is dict and not value else encode_json(value)  # most trades: empty
    return tuple(values)


def _bound_as_is(column: Field) -> tuple[type, ...]:
    """The value types SQLite stores for ``column`` exactly as its ``db_value`` would make them."""
    if isinstance(column, EnumField):
        return ()  # members become their values
    if isinstance(column, BooleanField):
        return (bool,)
    if isinstance(column, IntegerField):
        return (int,)
    if isinstance(column, FloatField):
        return (float, int)  # a REAL column stores an int as the float it equals
    if isinstance(column, TextField):
        return (str,)
    return ()


_DB_COERCIONS = tuple((index, _bound_as_is(column), column.db_value) for index, column in enumerate(TRADE_COLUMNS))


def trade_db_values(values: Sequence[Any]) -> tuple[Any, ...]:
    """``trade_values`` as the columns' ``db_value`` make them for SQLite, calling it only for the values not
    already of a type SQLite stores as they are (most of them: a row of a thousand trades is written at once).
    Which those are follows from the row's value types alone, worked out once per shape of row."""
    shape = tuple(map(type, values))
    converting = _CONVERTING.get(shape)
    if converting is None:
        converting = _converting(shape)
    if not converting:
        return tuple(values)
    row = list(values)
    for index, convert in converting:
        row[index] = convert(row[index])
    return tuple(row)


def _converting(shape: tuple[type, ...]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    converting = tuple(
        (index, _converter(TRADE_COLUMNS[index], kind, convert))
        for (index, as_is, convert), kind in zip(_DB_COERCIONS, shape, strict=True)
        if kind is not type(None) and kind not in as_is
    )
    if len(_CONVERTING) < _SHAPES_KEPT:  # rows come in a few shapes (None or not per column); more are not kept
        _CONVERTING[shape] = converting
    return converting


def _converter(column: Field, kind: type, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, or for a member of the column's own enum what it makes of each member, looked up."""
    if isinstance(column, EnumField) and kind is column.enum_class:
        return {member: convert(member) for member in kind}.__getitem__
    return convert


_CONVERTING: dict[tuple[type, ...], tuple[tuple[int, Callable[[Any], Any]], ...]] = {}
_SHAPES_KEPT = 256


def _shared_sent(text: str) -> Any:
    """``sent`` decoded, one dict for every trade loaded with the same text (a trade's ``sent`` is replaced
    whole, never changed in place): at 10,000 trades most bots send a few shapes."""
    return _SENT.get(text, lambda: decode_json(text))


_SENT: Shared[str, Any] = Shared(1024)


def complete_values(values: Sequence[Any]) -> tuple[Any, ...]:
    """A row of ``trade_values`` written by a version that knew fewer fields (the side journal outlives an
    upgrade), completed with the stored defaults of the fields added since: they are added last."""
    return (*values, *_STORED_DEFAULTS[len(values) :])


def _stored_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return None  # a field every row has (the ticket, the symbol...)
    return encode_json(value) if field.name in ("sent", "cannot") else value


def trade_from_values(values: Sequence[Any]) -> Trade:
    fields = dict(zip(TRADE_FIELDS, values, strict=True))
    fields["sent"] = _shared_sent(fields["sent"])
    fields["cannot"] = decode_json(fields["cannot"])
    return Trade(**fields)


def _members(enum: type[Enum]) -> Callable[[Any], Any]:
    members = {member.value: member for member in enum}

    def member(value: Any) -> Any:
        found = members.get(value)
        return found if found is not None else enum(value)  # an unknown value fails as the enum says

    return member


#: what the raw column values of ``TRADE_COLUMNS`` need to become the trade's (the others are used as read)
_RAW_CONVERSIONS: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
    (index, _members(column.enum_class) if isinstance(column, EnumField) else bool)
    for index, column in enumerate(TRADE_COLUMNS)
    if isinstance(column, EnumField | BooleanField)
) + ((TRADE_FIELDS.index("r_basis"), sys.intern),)  # a few texts, each held once by thousands of trades
_STORED_DEFAULTS = tuple(_stored_default(field) for field in dataclasses.fields(Trade))
_SETTERS = tuple(getattr(Trade, name).__set__ for name in TRADE_FIELDS)
_new = object.__new__


def trades_from_rows(rows: Sequence[Sequence[Any]]) -> list[Trade]:
    """Trades from raw rows of ``TRADE_COLUMNS`` as SQLite returns them (no peewee conversion): what
    ``trade_from_values`` makes of the converted values, a column at a time, for thousands of trades at start.
    """
    if not rows:
        return []
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for index, convert in _RAW_CONVERSIONS:
        columns[index] = list(map(convert, columns[index]))
    for index in _JSON_FIELDS:  # one parse of the whole column instead of one call per trade
        texts = columns[index]
        # one dict for the trades with the same text (``sent`` and ``cannot`` are replaced whole, never changed
        # in place): at 10,000 trades most are "{}" or a few shapes a bot sends
        shared: dict[str, Any] = {}
        columns[index] = [
            shared.setdefault(text, value)
            for text, value in zip(texts, json.loads("[" + ",".join(texts) + "]"), strict=True)
        ]
    trades = []
    for values in zip(*columns):
        trade = _new(Trade)  # every field is set below, as the dataclass's __init__ would
        for setter, value in zip(_SETTERS, values):
            setter(trade, value)
        trades.append(trade)
    return trades


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


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRows:
    """A decision's rows as the repository writes them (see ``BatchItem``)."""

    trade_values: tuple[Any, ...]
    actions: list[tuple[ActionRecord, dict[str, Any]]]
    transitions: list[tuple[Transition, dict[str, Any]]]
    events: list[tuple[str, dict[str, Any], str, float]]  # kind, payload, payload as JSON, terminal time
    changed: frozenset[str] | None


def decision_rows(item: BatchItem) -> DecisionRows:
    return DecisionRows(
        trade_values=trade_values(item.trade),
        actions=[(record, action_values(record)) for record in item.actions],
        transitions=[(each, transition_values(each)) for each in item.transitions],
        events=[(str(kind), payload, encode_json(payload), at) for kind, payload, at in item.events],
        changed=item.changed,
    )
