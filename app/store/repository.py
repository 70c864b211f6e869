"""The engine's only view of the database: engine dataclasses in, engine dataclasses out.

Every database call runs on one dedicated thread (the connection lives there; SQLite work is serialised
there) and the async methods await it, so the event loop never blocks on the disk. A write method returns
after its transaction committed: in WAL mode with ``synchronous=normal`` a committed write survives the
program being killed; after a power cut the last few commits may be lost (the file stays consistent).

If an awaiting coroutine is cancelled, a job already handed to the database thread still runs to its end.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from peewee import PeeweeException, SqliteDatabase

from app.engine.model import ActionRecord, StoredEvent, Trade, Transition
from app.store import mapping
from app.store.errors import StoreClosed, StoreError
from app.store.models import MODELS, ActionRow, EventRow, TradeRow, TransitionRow
from app.store.recovery import open_database

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SNAPSHOT_SLICE = 200  # trades snapshotted per turn of the loop in save_trades
_TRADE_CONVERTERS = tuple(column.db_value for column in mapping.TRADE_COLUMNS)
_ROWS_PER_GIL_TURN = 200
_INSERT_EVENT_SQL = "INSERT INTO events (kind, payload, at, wall_at) VALUES (?, ?, ?, ?)"


class Repository:
    """Persistence of trades, the action journal, state transitions and engine events.

    Create with ``await Repository.open(path)``; finish with ``await close()``.
    ``recovered_from`` is the damaged file moved aside at open (None when the file was sound).
    """

    def __init__(
        self,
        *,
        path: Path,
        db: SqliteDatabase,
        executor: ThreadPoolExecutor,
        recovered_from: Path | None,
        upsert_sql: str,
    ) -> None:
        self._path = path
        self._db = db
        self._upsert_sql = upsert_sql
        self._executor = executor
        self._closed = False
        self.recovered_from = recovered_from

    @classmethod
    async def open(cls, path: Path) -> Repository:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dtms-db")
        opening = executor.submit(_open_on_db_thread, path)
        try:
            db, recovered_from, upsert_sql = await asyncio.wrap_future(opening)
        except BaseException as error:
            executor.submit(_close_if_opened, opening)  # cancelled while opening: close what the thread opens
            executor.shutdown(wait=False)
            if isinstance(error, (PeeweeException, sqlite3.Error)):
                raise StoreError(f"cannot open database {path}: {error}") from error
            raise
        logger.info("database %s open%s", path, f" (damaged file moved to {recovered_from})" if recovered_from else "")
        return cls(path=path, db=db, executor=executor, recovered_from=recovered_from, upsert_sql=upsert_sql)

    @property
    def path(self) -> Path:
        return self._path

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        finally:
            self._executor.shutdown(wait=False)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreClosed(f"database {self._path} is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        except (PeeweeException, sqlite3.Error) as error:
            raise StoreError(f"database {self._path}: {error}") from error

    # --- trades ---------------------------------------------------------------------------------------

    async def insert_trade_if_absent(self, trade: Trade) -> bool:
        """Insert unless the ticket is already stored; True if this call inserted it."""
        return await self._run(self._insert_if_absent, mapping.trade_values(trade))

    def _insert_if_absent(self, values: tuple[Any, ...]) -> bool:
        query = TradeRow.insert_many([values], fields=mapping.TRADE_COLUMNS).on_conflict_ignore()
        return query.as_rowcount().execute() == 1

    async def save_trade(self, trade: Trade) -> None:
        """Insert or replace every field of the trade."""
        await self._run(self._upsert, [mapping.trade_values(trade)])

    async def save_trades(self, trades: Iterable[Trade]) -> None:
        """Insert or replace many trades in one transaction (one prepared upsert, run for every row)."""
        rows: list[tuple[Any, ...]] = []
        for count, trade in enumerate(trades, start=1):
            rows.append(mapping.trade_values(trade))
            if count % _SNAPSHOT_SLICE == 0:
                await asyncio.sleep(0)
        if rows:
            await self._run(self._upsert, rows)

    def _upsert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # One statement built by peewee, run for every row by sqlite3's executemany: peewee's multi-row
        # VALUES costs microseconds of Python per value, which for a 44-column row is most of the time.
        with self._db.atomic():
            cursor = self._db.cursor()
            for start in range(0, len(rows), _ROWS_PER_GIL_TURN):
                if start:
                    time.sleep(0)  # hand the GIL to the event loop between chunks of a large batch
                chunk = rows[start : start + _ROWS_PER_GIL_TURN]
                cursor.executemany(
                    self._upsert_sql,
                    [tuple([convert(value) for convert, value in zip(_TRADE_CONVERTERS, row)]) for row in chunk],
                )

    async def load_trade(self, ticket: int) -> Trade | None:
        trades = await self._run(self._load_trades, TradeRow.ticket == ticket)
        return trades[0] if trades else None

    async def load_active_trades(self) -> list[Trade]:
        """Every trade still managed, by ticket."""
        return await self._run(self._load_trades, TradeRow.active == True)  # noqa: E712 (SQL expression)

    async def load_closed_since(self, t: float) -> list[Trade]:
        """Trades whose management ended at or after ``t`` (terminal time), oldest end first."""
        return await self._run(
            self._load_trades, (TradeRow.active == False) & (TradeRow.closed_at >= t), TradeRow.closed_at  # noqa: E712
        )

    def _load_trades(self, where: Any, order: Any = TradeRow.ticket) -> list[Trade]:
        query = TradeRow.select(*mapping.TRADE_COLUMNS).where(where).order_by(order, TradeRow.ticket)
        return [mapping.trade_from_values(values) for values in query.tuples()]

    # --- journal --------------------------------------------------------------------------------------

    async def append_action(self, record: ActionRecord) -> ActionRecord:
        """Store the record; returns it with its ``id``."""
        return await self._run(self._append_action, record, mapping.action_values(record))

    def _append_action(self, record: ActionRecord, values: dict[str, Any]) -> ActionRecord:
        return replace(record, id=ActionRow.insert(**values).execute())

    async def actions(self, ticket: int | None = None, limit: int = 200) -> list[ActionRecord]:
        """The most recent actions, newest first; of one trade when ``ticket`` is given."""
        return await self._run(self._actions, ticket, limit)

    def _actions(self, ticket: int | None, limit: int) -> list[ActionRecord]:
        query = ActionRow.select().order_by(ActionRow.id.desc()).limit(limit)
        if ticket is not None:
            query = query.where(ActionRow.ticket == ticket)
        return [mapping.action_from_row(row) for row in query.dicts()]

    async def append_transition(self, transition: Transition) -> Transition:
        """Store the transition; returns it with its ``id``."""
        return await self._run(self._append_transition, transition, mapping.transition_values(transition))

    def _append_transition(self, transition: Transition, values: dict[str, Any]) -> Transition:
        return replace(transition, id=TransitionRow.insert(**values).execute())

    async def transitions(self, ticket: int) -> list[Transition]:
        """Every state change of the trade, oldest first."""
        return await self._run(self._transitions, ticket)

    def _transitions(self, ticket: int) -> list[Transition]:
        query = TransitionRow.select().where(TransitionRow.ticket == ticket).order_by(TransitionRow.id)
        return [mapping.transition_from_row(row) for row in query.dicts()]

    async def save_trade_with_records(
        self, trade: Trade, actions: Iterable[ActionRecord] = (), transitions: Iterable[Transition] = ()
    ) -> tuple[list[ActionRecord], list[Transition]]:
        """Commit the trade and its journal entries in one transaction: all of it is stored, or none.

        Returns the records with their ids.
        """
        action_rows = [(record, mapping.action_values(record)) for record in actions]
        transition_rows = [(item, mapping.transition_values(item)) for item in transitions]
        return await self._run(self._save_with_records, mapping.trade_values(trade), action_rows, transition_rows)

    def _save_with_records(
        self,
        trade_values: tuple[Any, ...],
        actions: list[tuple[ActionRecord, dict[str, Any]]],
        transitions: list[tuple[Transition, dict[str, Any]]],
    ) -> tuple[list[ActionRecord], list[Transition]]:
        with self._db.atomic():
            self._upsert([trade_values])
            stored_actions = [self._append_action(record, values) for record, values in actions]
            stored_transitions = [self._append_transition(item, values) for item, values in transitions]
        return stored_actions, stored_transitions

    # --- events ---------------------------------------------------------------------------------------

    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent:
        """Store an engine event (``at`` terminal time; ``wall_at`` is now); returns it with its ``seq``."""
        values = {"kind": str(kind), "payload": mapping.encode_json(payload), "at": at, "wall_at": time.time()}
        seq = await self._run(lambda: EventRow.insert(**values).execute())
        return StoredEvent(seq=seq, kind=values["kind"], payload=mapping.decode_json(values["payload"]),
                           at=at, wall_at=values["wall_at"])

    async def save_trades_with_events(
        self, trades: Sequence[Trade], events: Sequence[tuple[str, dict[str, Any], float]]
    ) -> list[StoredEvent]:
        """Commit many trades and events (kind, payload, terminal time) in one transaction: all or none.

        Returns the events with their ``seq``, in the order given.
        """
        rows = [mapping.trade_values(trade) for trade in trades]
        wall_at = time.time()
        encoded = [(str(kind), mapping.encode_json(payload), at, wall_at) for kind, payload, at in events]
        seqs = await self._run(self._save_trades_with_events, rows, encoded)
        return [StoredEvent(seq=seq, kind=str(kind), payload=payload, at=at, wall_at=wall_at)
                for seq, (kind, payload, at) in zip(seqs, events)]

    def _save_trades_with_events(self, rows: list[tuple[Any, ...]], events: list[tuple[str, str, float, float]]
                                 ) -> list[int]:
        with self._db.atomic():
            if rows:
                self._upsert(rows)
            cursor = self._db.cursor()
            seqs = []
            for values in events:
                cursor.execute(_INSERT_EVENT_SQL, values)
                seqs.append(int(cursor.lastrowid))
        return seqs

    async def events_since(self, seq: int, limit: int = 500) -> list[StoredEvent]:
        """Events after ``seq``, oldest first."""
        return await self._run(self._events_since, seq, limit)

    def _events_since(self, seq: int, limit: int) -> list[StoredEvent]:
        query = EventRow.select().where(EventRow.seq > seq).order_by(EventRow.seq).limit(limit)
        return [mapping.event_from_row(row) for row in query.dicts()]

    async def last_event_seq(self) -> int:
        """The newest event's ``seq`` (0 when there is none)."""
        return await self._run(lambda: EventRow.select(EventRow.seq).order_by(EventRow.seq.desc()).scalar() or 0)

    # --- the file -------------------------------------------------------------------------------------

    async def size_bytes(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        return await self._run(self._size_bytes)

    def _size_bytes(self) -> int:
        files = (self._path, Path(f"{self._path}-wal"))
        return sum(file.stat().st_size for file in files if file.exists())


def _open_on_db_thread(path: Path) -> tuple[SqliteDatabase, Path | None, str]:
    """Open, check and migrate the file, bind the models to it on this thread, build the trade upsert."""
    db, recovered_from = open_database(path)
    db.bind(MODELS, bind_refs=False, bind_backrefs=False)  # per thread (ThreadSafeDatabaseMetadata)
    placeholder = tuple(column.default for column in mapping.TRADE_COLUMNS)
    updates = [column for column in mapping.TRADE_COLUMNS if column is not TradeRow.ticket]
    upsert_sql, _ = (
        TradeRow.insert_many([placeholder], fields=mapping.TRADE_COLUMNS)
        .on_conflict(conflict_target=[TradeRow.ticket], preserve=updates)
        .sql()
    )
    return db, recovered_from, upsert_sql


def _close_if_opened(opening: Future[tuple[SqliteDatabase, Path | None, str]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result()[0].close()
