"""Peewee models of the DTMS database. Only the repository uses them; the engine never sees a row.

Models carry no database of their own: the repository binds them on its database thread, and
``ThreadSafeDatabaseMetadata`` keeps that binding per thread, so two repositories (two files) can be open
in one process. The tables themselves are created by the numbered migrations (``migrations.py``), not
from these classes; a test checks that both agree.

Columns holding JSON are plain text here; ``mapping.py`` encodes and decodes them on the caller's side.
The journal tables (actions, transitions) carry a ticket but no foreign key: a journal entry is kept
for ever and must never be refused because of the state of the trades table.
"""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    FloatField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.fields import EnumField
from playhouse.shortcuts import ThreadSafeDatabaseMetadata
from playhouse.sqlite_ext import AutoIncrementField

from app.engine.model import ActionKind, ActionOutcome, DefensiveState, Direction, TradeSource


class _Row(Model):
    class Meta:
        model_metadata_class = ThreadSafeDatabaseMetadata
        legacy_table_names = False


class TradeRow(_Row):
    """Every field of ``Trade``, one column each (``sent`` as JSON text)."""

    ticket = BigIntegerField(primary_key=True)
    symbol = TextField()
    direction = EnumField(Direction)
    entry = FloatField()
    volume = FloatField()
    sl = FloatField()
    tp = FloatField()
    magic = BigIntegerField()
    comment = TextField()
    opened_at = FloatField()
    sent = TextField()
    managed_by = TextField()
    strategy_type = TextField(null=True)
    source = EnumField(TradeSource)
    registered_at = FloatField()
    initial_sl = FloatField()
    initial_volume = FloatField()
    r = FloatField()
    synthetic_r = BooleanField()
    breakeven_triggered = BooleanField()
    partial_taken = BooleanField()
    best_price = FloatField(null=True)
    last_sl_change_at = FloatField(null=True)
    state = EnumField(DefensiveState)
    state_since = FloatField()
    score = FloatField()
    score_explanation = TextField()
    warnings = IntegerField()
    last_warning_at = FloatField(null=True)
    flat_timer_until = FloatField(null=True)
    recovery_timer_until = FloatField(null=True)
    hedge_ticket = BigIntegerField(null=True)
    closed_volume = FloatField()
    pending_action = TextField(null=True)
    last_evaluated_at = FloatField(null=True)
    last_deep_check_at = FloatField(null=True)
    last_forced_check_at = FloatField(null=True)
    last_action = TextField(null=True)
    last_action_at = FloatField(null=True)
    dtms_paused = BooleanField(default=False)
    active = BooleanField()
    closed_at = FloatField(null=True)
    close_price = FloatField(null=True)
    close_profit = FloatField(null=True)
    close_reason = TextField(null=True)
    cannot = TextField(default="{}")  # JSON: "STATE:ACTION" -> why it could not be done
    r_basis = TextField(default="")  # where a synthetic R came from, as set at registration

    class Meta:
        table_name = "trades"


class ActionRow(_Row):
    """The action journal: every order DTMS sent (or decided not to send) and its outcome."""

    id = AutoIncrementField()
    ticket = BigIntegerField()
    kind = EnumField(ActionKind)
    request = TextField()  # JSON
    outcome = EnumField(ActionOutcome)
    retcode = IntegerField(null=True)
    comment = TextField()
    attempt = IntegerField()
    detail = TextField()
    at = FloatField()
    wall_at = FloatField()

    class Meta:
        table_name = "actions"


class TransitionRow(_Row):
    id = AutoIncrementField()
    ticket = BigIntegerField()
    from_state = EnumField(DefensiveState)
    to_state = EnumField(DefensiveState)
    reason = TextField()
    score = FloatField()
    at = FloatField()

    class Meta:
        table_name = "transitions"


class EventRow(_Row):
    """Engine events; ``seq`` is never reused (AUTOINCREMENT), so it can serve as a stream id."""

    seq = AutoIncrementField()
    kind = TextField()
    payload = TextField()  # JSON; for a referring event only what its row does not hold
    at = FloatField()
    wall_at = FloatField()
    ref_table = TextField(null=True)  # "actions" or "transitions": the row this event tells of
    ref_id = IntegerField(null=True)

    class Meta:
        table_name = "events"


class MetaRow(_Row):
    """Key/value facts about the file itself; ``schema_version`` is the last migration applied."""

    key = TextField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "meta"


MODELS: tuple[type[Model], ...] = (TradeRow, ActionRow, TransitionRow, EventRow, MetaRow)
