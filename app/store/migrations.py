"""Numbered schema migrations, applied in order, each in its own transaction with its version recorded.

A migration is frozen once released: it states its schema in SQL (or ``playhouse.migrate`` operations)
and never derives it from the current models, so an old file always walks the same path to today's schema.
The version lives in the ``meta`` table under ``schema_version``; a file without that table is version 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from peewee import SqliteDatabase

from app.store.errors import DatabaseTooNew
from app.store.models import MetaRow

logger = logging.getLogger(__name__)

VERSION_KEY = "schema_version"


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int
    description: str
    apply: Callable[[SqliteDatabase], None]


_V1_STATEMENTS = (
    """CREATE TABLE trades (
        ticket INTEGER NOT NULL PRIMARY KEY,
        symbol TEXT NOT NULL,
        direction TEXT NOT NULL,
        entry REAL NOT NULL,
        volume REAL NOT NULL,
        sl REAL NOT NULL,
        tp REAL NOT NULL,
        magic INTEGER NOT NULL,
        comment TEXT NOT NULL,
        opened_at REAL NOT NULL,
        sent TEXT NOT NULL,
        managed_by TEXT NOT NULL,
        strategy_type TEXT,
        source TEXT NOT NULL,
        registered_at REAL NOT NULL,
        initial_sl REAL NOT NULL,
        initial_volume REAL NOT NULL,
        r REAL NOT NULL,
        synthetic_r INTEGER NOT NULL,
        breakeven_triggered INTEGER NOT NULL,
        partial_taken INTEGER NOT NULL,
        best_price REAL,
        last_sl_change_at REAL,
        state TEXT NOT NULL,
        state_since REAL NOT NULL,
        score REAL NOT NULL,
        score_explanation TEXT NOT NULL,
        warnings INTEGER NOT NULL,
        last_warning_at REAL,
        flat_timer_until REAL,
        recovery_timer_until REAL,
        hedge_ticket INTEGER,
        closed_volume REAL NOT NULL,
        pending_action TEXT,
        last_evaluated_at REAL,
        last_deep_check_at REAL,
        last_forced_check_at REAL,
        last_action TEXT,
        last_action_at REAL,
        active INTEGER NOT NULL,
        closed_at REAL,
        close_price REAL,
        close_profit REAL,
        close_reason TEXT
    )""",
    "CREATE INDEX trades_active ON trades (active)",
    "CREATE INDEX trades_closed_at ON trades (closed_at)",
    """CREATE TABLE actions (
        id INTEGER NOT NULL PRIMARY KEY,
        ticket INTEGER NOT NULL,
        kind TEXT NOT NULL,
        request TEXT NOT NULL,
        outcome TEXT NOT NULL,
        retcode INTEGER,
        comment TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        detail TEXT NOT NULL,
        at REAL NOT NULL,
        wall_at REAL NOT NULL
    )""",
    "CREATE INDEX actions_ticket ON actions (ticket, id)",
    """CREATE TABLE transitions (
        id INTEGER NOT NULL PRIMARY KEY,
        ticket INTEGER NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL,
        score REAL NOT NULL,
        at REAL NOT NULL
    )""",
    "CREATE INDEX transitions_ticket ON transitions (ticket, id)",
    """CREATE TABLE events (
        seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        at REAL NOT NULL,
        wall_at REAL NOT NULL
    )""",
)


def _v1_initial(db: SqliteDatabase) -> None:
    for statement in _V1_STATEMENTS:
        db.execute_sql(statement)


def _v2_trade_pause(db: SqliteDatabase) -> None:
    db.execute_sql("ALTER TABLE trades ADD COLUMN dtms_paused INTEGER NOT NULL DEFAULT 0")


_V2_STATEMENTS = (
    # ids are never reused once rows move to the archive (AUTOINCREMENT), so an archived id names one row
    "ALTER TABLE actions RENAME TO actions_v1",
    """CREATE TABLE actions (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        ticket INTEGER NOT NULL,
        kind TEXT NOT NULL,
        request TEXT NOT NULL,
        outcome TEXT NOT NULL,
        retcode INTEGER,
        comment TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        detail TEXT NOT NULL,
        at REAL NOT NULL,
        wall_at REAL NOT NULL
    )""",
    "INSERT INTO actions SELECT * FROM actions_v1",
    "DROP TABLE actions_v1",
    "CREATE INDEX actions_ticket ON actions (ticket, id)",
    "ALTER TABLE transitions RENAME TO transitions_v1",
    """CREATE TABLE transitions (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        ticket INTEGER NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL,
        score REAL NOT NULL,
        at REAL NOT NULL
    )""",
    "INSERT INTO transitions SELECT * FROM transitions_v1",
    "DROP TABLE transitions_v1",
    "CREATE INDEX transitions_ticket ON transitions (ticket, id)",
    # an action or a state change is stored once, in its own table; its event names the row
    "ALTER TABLE events ADD COLUMN ref_table TEXT",
    "ALTER TABLE events ADD COLUMN ref_id INTEGER",
    # what a trade could not do in a state (an action below the minimum volume): journaled once per state
    "ALTER TABLE trades ADD COLUMN cannot TEXT NOT NULL DEFAULT '{}'",
)


def _v3_event_refs(db: SqliteDatabase) -> None:
    for statement in _V2_STATEMENTS:
        db.execute_sql(statement)


def _v4_r_basis(db: SqliteDatabase) -> None:
    db.execute_sql("ALTER TABLE trades ADD COLUMN r_basis TEXT NOT NULL DEFAULT ''")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, description="trades, action journal, transitions, events", apply=_v1_initial),
    Migration(version=2, description="DTMS paused for one trade", apply=_v2_trade_pause),
    Migration(
        version=3,
        description="events refer to their action or transition; what a trade could not do",
        apply=_v3_event_refs,
    ),
    Migration(version=4, description="where a synthetic R came from, kept with the trade", apply=_v4_r_basis),
)


def schema_version(db: SqliteDatabase) -> int:
    """The last migration applied to the connected database (0 for a file DTMS never set up)."""
    with db.bind_ctx([MetaRow]):
        if not MetaRow.table_exists():
            return 0
        row = MetaRow.get_or_none(MetaRow.key == VERSION_KEY)
    return int(row.value) if row is not None else 0


def migrate(db: SqliteDatabase, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the connected database up to the last of ``migrations``; returns the version reached.

    Each migration commits together with its version number, so a failure leaves the file at the last
    complete version. Raises ``DatabaseTooNew`` when the file is ahead of the migrations known here.
    """
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise ValueError(f"migrations must be numbered 1..{len(migrations)} in order")
    latest = len(migrations)
    current = schema_version(db)
    if current > latest:
        raise DatabaseTooNew(current, latest)
    with db.bind_ctx([MetaRow]):
        for migration in migrations[current:]:
            with db.atomic():
                MetaRow.create_table(safe=True)
                # Read again under the write lock: another process may have migrated meanwhile.
                if schema_version(db) >= migration.version:
                    continue
                migration.apply(db)
                MetaRow.insert(key=VERSION_KEY, value=str(migration.version)).on_conflict_replace().execute()
            logger.info("database %s migrated to version %d: %s", db.database, migration.version, migration.description)
    return latest
