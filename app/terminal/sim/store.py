"""The simulated broker on disk: ``<data_dir>/sim_broker.sqlite3``.

A live server keeps its accounts when the terminal closes, so the simulator does too: account, positions,
pending orders, history, ticket counters, the clock and the market (scripted prices included). Each call
that changed something commits one small transaction with just the rows that changed (WAL,
synchronous=NORMAL), so the state survives the process being killed and stays cheap with thousands of
open positions.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.desk_lock import acquire, release
from app.files import private_file
from app.terminal.sim.broker import Changes

logger = logging.getLogger(__name__)

FILE_NAME = "sim_broker.sqlite3"
LOCK_NAME = "sim_broker.lock"
#: a worker replacing one that is still being killed waits this long for the broker's lock
LOCK_WAIT_S = 5.0
_TABLES = ("positions", "orders", "history_orders", "deals")
#: Positions and history orders come back in the order they were added (``seq``, which the upsert keeps), as the
#: terminal lists them: a filled pending order opens a position after younger ones. Orders and deals go by ticket.
_IN_ADDED_ORDER = ("positions", "history_orders")
_SCHEMA = ["CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"] + [
    f"CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY, ticket INTEGER NOT NULL UNIQUE, row TEXT NOT NULL)"
    if table in _IN_ADDED_ORDER
    else f"CREATE TABLE IF NOT EXISTS {table} (ticket INTEGER PRIMARY KEY, row TEXT NOT NULL)"
    for table in _TABLES
]
_UPSERT = "INSERT INTO {table} (ticket, row) VALUES (?, ?) ON CONFLICT (ticket) DO UPDATE SET row = excluded.row"


@dataclass(slots=True, kw_only=True)
class SavedBroker:
    """Everything read back from disk, as plain rows for the terminal to rebuild its objects from."""

    meta: dict[str, Any] = field(default_factory=dict)
    positions: list[list[Any]] = field(default_factory=list)
    orders: list[list[Any]] = field(default_factory=list)
    history_orders: list[list[Any]] = field(default_factory=list)
    deals: list[list[Any]] = field(default_factory=list)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class BrokerStore:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILE_NAME
        # one simulator per broker state: two of them handed one ticket number to two different orders
        self._lock = acquire(
            data_dir / LOCK_NAME, f"the simulated broker in {data_dir}", {"data_dir": str(data_dir)}, wait_s=LOCK_WAIT_S
        )
        private_file(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        # the page cache grows with the file up to SQLite's 2 MiB: the changed rows' pages are what it needs
        self._db.execute("PRAGMA cache_size=-512")
        for statement in _SCHEMA:
            self._db.execute(statement)

    def load(self) -> SavedBroker | None:
        """The saved broker, or None for a fresh data directory."""
        meta = {key: json.loads(value) for key, value in self._db.execute("SELECT key, value FROM meta")}
        if "account" not in meta:
            return None
        saved = SavedBroker(meta=meta)
        for table in _TABLES:
            order = "seq" if table in _IN_ADDED_ORDER else "ticket"
            texts = [row for (row,) in self._db.execute(f"SELECT row FROM {table} ORDER BY {order}")]
            setattr(saved, table, json.loads("[" + ",".join(texts) + "]"))  # one parse for the whole table
        logger.info(
            "simulated broker restored from %s: %d positions, %d orders, %d deals",
            self.path, len(saved.positions), len(saved.orders), len(saved.deals),
        )  # fmt: skip
        return saved

    def save(self, changes: Changes, meta: dict[str, Any]) -> None:
        """Write one call's changes (and the given meta values) in a single transaction."""
        db = self._db
        db.execute("BEGIN")
        try:
            for table, rows in (("positions", changes.positions), ("orders", changes.orders)):
                upserts = [(ticket, _dumps(r.to_row())) for ticket, r in rows.items() if r is not None]
                deletes = [(ticket,) for ticket, r in rows.items() if r is None]
                if upserts:
                    db.executemany(_UPSERT.format(table=table), upserts)
                if deletes:
                    db.executemany(f"DELETE FROM {table} WHERE ticket = ?", deletes)
            for table, entries in (("history_orders", changes.history_orders), ("deals", changes.deals)):
                if entries:
                    db.executemany(
                        _UPSERT.format(table=table), [(entry.ticket, _dumps(list(entry))) for entry in entries]
                    )
            if meta:
                db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [(key, _dumps(value)) for key, value in meta.items()],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            release(self._lock)
