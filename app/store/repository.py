"""The engine's only view of the database: engine dataclasses in, engine dataclasses out.

Every database call runs on one dedicated thread (the connection lives there; SQLite work is serialised
there) and the async methods await it, so the event loop never blocks on the disk. A write method returns
after its transaction committed: in WAL mode with ``synchronous=normal`` a committed write survives the
program being killed; after a power cut the last few commits may be lost (the file stays consistent).

If an awaiting coroutine is cancelled, a job already handed to the database thread still runs to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

from peewee import PeeweeException, SqliteDatabase

from app.engine.model import ActionRecord, BatchItem, StoredEvent, Trade, Transition
from app.store import archive, event_refs, mapping
from app.store.errors import StoreClosed, StoreError
from app.store.models import MODELS, ActionRow, EventRow, TradeRow, TransitionRow
from app.store.recovery import degrading_problem, open_database
from app.store.safekeeping import Safekeeping
from app.store.side_journal import SideJournal

logger = logging.getLogger(__name__)

_ROWS_AT_ONCE = 2000  # trades built from one batch of raw rows

T = TypeVar("T")

_SNAPSHOT_SLICE = 200  # trades snapshotted per turn of the loop in save_trades
_ROWS_PER_GIL_TURN = 200
_INSERT_EVENT_SQL = "INSERT INTO events (kind, payload, at, wall_at) VALUES (?, ?, ?, ?)"
# A stored trade whose indexed columns (active, closed_at) are unchanged is rewritten by an UPDATE of the other
# columns: SQLite then leaves the two index b-trees alone, one page written per row instead of three (the upsert
# sets every column, indexed ones included, so it rewrites an index page of each).
_INDEXED = ("active", "closed_at")
_TICKET = mapping.TRADE_FIELDS.index("ticket")
_GUARD = tuple(mapping.TRADE_FIELDS.index(name) for name in _INDEXED)
_UNINDEXED = tuple(i for i, name in enumerate(mapping.TRADE_FIELDS) if name not in (*_INDEXED, "ticket"))


class Repository(Safekeeping):
    """Persistence of trades, the action journal, state transitions and engine events.

    Create with ``await Repository.open(path)``; finish with ``await close()``.
    ``recovered_from`` is the damaged file moved aside at open (None when the file was sound),
    ``restored_from`` the backup put in its place (None: none was good), ``replayed`` how many side-journal
    records were written into it, ``started_backup`` the backup taken at open.
    """

    def __init__(
        self,
        *,
        path: Path,
        db: SqliteDatabase,
        executor: ThreadPoolExecutor,
        recovered_from: Path | None,
        upsert_sql: str,
        restored_from: Path | None = None,
        update_sql: str = "",
        side: SideJournal | None = None,
    ) -> None:
        self._path = path
        self._db = db
        self._upsert_sql = upsert_sql
        self._update_sql = update_sql
        self._executor = executor
        self._closed = False
        self.recovered_from = recovered_from
        self.restored_from = restored_from
        self.side = side or SideJournal.beside(path)
        self._backed_up_at_changes: int | None = None
        self._whole_rows: set[int] = set()  # tickets whose whole row the side journal holds
        self.replayed = 0
        self.started_backup: Path | None = None
        self._archives: dict[Path, SqliteDatabase] = {}  # open on the database thread, one per year

    @classmethod
    async def open(cls, path: Path, *, backups_kept: int = 3) -> Repository:
        """Open (restoring the newest good backup over a damaged file) and replay the side journal where it holds
        what the file lacks; after a replay or a restore, take a backup, which empties the side journal."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dtms-db")
        opening = executor.submit(_open_on_db_thread, path)
        try:
            db, recovered_from, restored_from, upsert_sql, update_sql = await asyncio.wrap_future(opening)
        except BaseException as error:
            executor.submit(_close_if_opened, opening)  # cancelled while opening: close what the thread opens
            executor.shutdown(wait=False)
            if isinstance(error, (PeeweeException, sqlite3.Error)):
                raise StoreError(f"cannot open database {path}: {error}") from error
            raise
        logger.info("database %s open%s", path, f" (damaged file moved to {recovered_from})" if recovered_from else "")
        repository = cls(
            path=path,
            db=db,
            executor=executor,
            recovered_from=recovered_from,
            upsert_sql=upsert_sql,
            restored_from=restored_from,
            update_sql=update_sql,
        )
        try:
            await repository._run(repository._bring_archives_up_to_date)
            if repository.needs_replay(recovered_from is not None):
                repository.replayed = await repository._run(repository._replay_on_thread, recovered_from is not None)
                logger.warning(
                    "%d records of the side journal %s written into the database",
                    repository.replayed,
                    repository.side.path,
                )
            if repository.replayed or recovered_from is not None:
                # the restored (or rebuilt) file with what was replayed into it becomes the newest backup; after a
                # plain crash the side journal stays as it is: what it holds since the newest backup is in the file
                # and still needed should that backup ever be restored (a copy here held the start up)
                repository.started_backup = await repository._run(repository._start_backup_on_thread, backups_kept)
        except BaseException:
            await repository.close()
            raise
        return repository

    @property
    def path(self) -> Path:
        return self._path

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close_all)
        finally:
            self._executor.shutdown(wait=False)

    def _close_all(self) -> None:
        for db in self._archives.values():
            db.close()
        self._archives.clear()
        self._db.close()

    async def _run(self, work: Callable[..., T], *args: Any, beside: bool = False) -> T:
        """``work`` on the database thread, or with ``beside`` on a thread of the loop's pool (only for work on a
        connection of its own, which then does not wait for the commits, nor they for it)."""
        if self._closed:
            raise StoreClosed(f"database {self._path} is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(None if beside else self._executor, work, *args)
        except (PeeweeException, sqlite3.Error) as error:
            raise StoreError(f"database {self._path}: {error}", degrading=degrading_problem(error)) from error

    # --- trades ---------------------------------------------------------------------------------------

    async def insert_trade_if_absent(self, trade: Trade) -> bool:
        """Insert unless the ticket is already stored; True if this call inserted it."""
        return await self._run(self._insert_if_absent, mapping.trade_values(trade))

    def _insert_if_absent(self, values: tuple[Any, ...]) -> bool:
        cursor = self._db.cursor()
        cursor.execute(_insert_ignore_sql(), mapping.trade_db_values(values))
        return cursor.rowcount == 1

    def _insert_event(self, values: dict[str, Any]) -> int:
        cursor = self._db.cursor()
        cursor.execute(_INSERT_EVENT_SQL, (values["kind"], values["payload"], values["at"], values["wall_at"]))
        return int(cursor.lastrowid)

    async def insert_trade_with_events(
        self, trade: Trade, events: Iterable[tuple[str, dict[str, Any], float]]
    ) -> tuple[bool, list[StoredEvent]]:
        """Insert unless the ticket is already stored, with its events in the same transaction (none are stored
        when the ticket was there); True and the stored events if this call inserted it."""
        rows = [(str(kind), mapping.encode_json(payload), payload, at) for kind, payload, at in events]
        return await self._run(self._insert_with_events, mapping.trade_values(trade), rows)

    def _insert_with_events(
        self, values: tuple[Any, ...], events: list[tuple[str, str, dict[str, Any], float]]
    ) -> tuple[bool, list[StoredEvent]]:
        wall_at = time.time()
        with self._db.atomic():
            if not self._insert_if_absent(values):
                return False, []
            stored = []
            for kind, encoded, payload, at in events:
                seq = EventRow.insert(kind=kind, payload=encoded, at=at, wall_at=wall_at).execute()
                stored.append(StoredEvent(seq=seq, kind=kind, payload=payload, at=at, wall_at=wall_at))
        return True, stored

    async def save_trade(self, trade: Trade) -> None:
        """Insert or replace every field of the trade."""
        await self._run(self._upsert, [mapping.trade_values(trade)])

    async def save_trades(self, trades: Iterable[Trade]) -> None:
        """Insert or replace many trades in one transaction (stored rows updated in place, see ``_rewrite``)."""
        rows: list[tuple[Any, ...]] = []
        for count, trade in enumerate(trades, start=1):
            rows.append(mapping.trade_values(trade))
            if count % _SNAPSHOT_SLICE == 0:
                await asyncio.sleep(0)
        if rows:
            await self._run(self._rewrite, rows)

    def _rewrite(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Like ``_upsert``, with fewer pages written: rows stored with the same ``active`` and ``closed_at`` are
        updated without those columns (their index pages stay as they are); should any row be new or have changed
        an indexed column, the whole batch is upserted in the same transaction instead."""
        if not self._update_sql:
            self._upsert(rows)
            return
        with self._db.atomic():
            cursor = self._db.cursor()
            updated = 0
            for start in range(0, len(rows), _ROWS_PER_GIL_TURN):
                if start:
                    time.sleep(0)
                chunk = [_update_params(row) for row in rows[start : start + _ROWS_PER_GIL_TURN]]
                cursor.executemany(self._update_sql, chunk)
                updated += cursor.rowcount
            if updated != len(rows):
                self._upsert(rows)

    def _upsert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # One statement built by peewee, run for every row by sqlite3's executemany: peewee's multi-row
        # VALUES costs microseconds of Python per value, which for a 44-column row is most of the time.
        with self._db.atomic():
            cursor = self._db.cursor()
            for start in range(0, len(rows), _ROWS_PER_GIL_TURN):
                if start:
                    time.sleep(0)  # hand the GIL to the event loop between chunks of a large batch
                chunk = rows[start : start + _ROWS_PER_GIL_TURN]
                cursor.executemany(self._upsert_sql, [mapping.trade_db_values(row) for row in chunk])

    async def load_trade(self, ticket: int) -> Trade | None:
        """The trade from the main file, or from its archive once it was moved there."""
        return await self._run(self._load_trade, ticket)

    def _load_trade(self, ticket: int) -> Trade | None:
        trades = self._load_trades(TradeRow.ticket == ticket)
        if trades:
            return trades[0]
        holder = self._archive_of(ticket)
        if holder is None:
            return None
        with holder.bind_ctx(MODELS):
            trades = self._load_trades(TradeRow.ticket == ticket)
        return trades[0] if trades else None

    async def load_active_trades(self) -> list[Trade]:
        """Every trade still managed, by ticket."""
        return await self._run(self._load_trades, TradeRow.active == True)  # noqa: E712 (SQL expression)

    async def load_closed_since(self, t: float) -> list[Trade]:
        """Trades whose management ended at or after ``t`` (terminal time), oldest end first."""
        return await self._run(self._load_closed_since, t)

    def _load_closed_since(self, t: float) -> list[Trade]:
        where = (TradeRow.active == False) & (TradeRow.closed_at >= t)  # noqa: E712
        trades = self._load_trades(where, TradeRow.closed_at)
        for path in archive.archive_files(self._path):  # closed before the retention cutoff: in the archives
            if int(path.stem.rsplit("-", 1)[-1]) < archive.year_of(t):
                break
            with self._archive(path).bind_ctx(MODELS):
                trades += self._load_trades(where, TradeRow.closed_at)
        return sorted(trades, key=lambda trade: (trade.closed_at or 0.0, trade.ticket))

    def _load_trades(self, where: Any, order: Any = TradeRow.ticket) -> list[Trade]:
        query = TradeRow.select(*mapping.TRADE_COLUMNS).where(where).order_by(order, TradeRow.ticket)
        # the raw rows of the database the model is bound to now (an archive's, within ``bind_ctx``), a few
        # thousand at a time so that 10,000 trades' raw values are never all held at once
        cursor = TradeRow._meta.database.execute(query)
        trades: list[Trade] = []
        while rows := cursor.fetchmany(_ROWS_AT_ONCE):
            trades += mapping.trades_from_rows(rows)
        return trades

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
        holder = self._archive_holding(ticket) if ticket is not None else None
        with holder.bind_ctx(MODELS) if holder is not None else contextlib.nullcontext():
            query = ActionRow.select().order_by(ActionRow.id.desc()).limit(limit)
            if ticket is not None:
                query = query.where(ActionRow.ticket == ticket)
            return [mapping.action_from_row(row) for row in cast("Iterable[dict[str, Any]]", query.dicts())]

    async def count_actions(self) -> int:
        """How many actions are recorded in all (of every trade, managed now or before)."""
        return await self._run(lambda: ActionRow.select().count())

    async def append_transition(self, transition: Transition) -> Transition:
        """Store the transition; returns it with its ``id``."""
        return await self._run(self._append_transition, transition, mapping.transition_values(transition))

    def _append_transition(self, transition: Transition, values: dict[str, Any]) -> Transition:
        return replace(transition, id=TransitionRow.insert(**values).execute())

    async def transitions(self, ticket: int) -> list[Transition]:
        """Every state change of the trade, oldest first."""
        return await self._run(self._transitions, ticket)

    def _transitions(self, ticket: int) -> list[Transition]:
        holder = self._archive_holding(ticket)
        with holder.bind_ctx(MODELS) if holder is not None else contextlib.nullcontext():
            query = TransitionRow.select().where(TransitionRow.ticket == ticket).order_by(TransitionRow.id)
            return [mapping.transition_from_row(row) for row in cast("Iterable[dict[str, Any]]", query.dicts())]

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
            self._rewrite([trade_values])
            stored_actions = [self._append_action(record, values) for record, values in actions]
            stored_transitions = [self._append_transition(item, values) for item, values in transitions]
        return stored_actions, stored_transitions

    async def commit_records(
        self,
        trade: Trade,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[str, dict[str, Any], float]] = (),
        *,
        changed: frozenset[str] | None = None,
    ) -> tuple[list[ActionRecord], list[Transition], list[StoredEvent]]:
        """Commit the trade, its journal entries and its events (kind, payload, terminal time) in one
        transaction. An event telling of an action or transition of this commit refers to its row instead of
        storing a copy. Returns the stored records and events (with their ids and ``seq``). ``changed``: the
        trade's fields the decision changed, all the side journal's copy needs (None: the whole row)."""
        item = BatchItem(
            trade=trade, actions=tuple(actions), transitions=tuple(transitions), events=tuple(events), changed=changed
        )
        return await self._run(self._commit_records, mapping.decision_rows(item))

    def _commit_records(
        self, item: mapping.DecisionRows
    ) -> tuple[list[ActionRecord], list[Transition], list[StoredEvent]]:
        return self._commit_batch([item])[0]

    async def commit_batch(
        self, items: Sequence[BatchItem]
    ) -> list[tuple[list[ActionRecord], list[Transition], list[StoredEvent]]]:
        """``commit_records`` of many decisions in one transaction: all of them are stored, or none."""
        return await self._run(self._commit_batch, [mapping.decision_rows(item) for item in items])

    def _commit_batch(
        self, items: list[mapping.DecisionRows]
    ) -> list[tuple[list[ActionRecord], list[Transition], list[StoredEvent]]]:
        wall_at = time.time()
        with self._db.atomic():
            stored = [self._write_records(item, wall_at) for item in items]
        # a decision (its intent, its outcome) survives a restore from a backup older than it: a partial
        # taken since then must not be taken again, nor a hedge opened twice
        self.copy_aside_many(
            [
                (
                    item.trade_values,
                    [values for _, values in item.actions],
                    [values for _, values in item.transitions],
                    item.changed,
                )
                for item in items
            ]
        )
        return stored

    def _write_records(
        self, item: mapping.DecisionRows, wall_at: float
    ) -> tuple[list[ActionRecord], list[Transition], list[StoredEvent]]:
        stored_actions, stored_transitions = self._save_with_records(item.trade_values, item.actions, item.transitions)
        stored_events = []
        for kind, payload, encoded, at in item.events:
            found = event_refs.find_ref(kind, payload, stored_actions, stored_transitions)
            values: dict[str, Any] = {"kind": kind, "payload": encoded, "at": at, "wall_at": wall_at}
            if found is not None:
                (table, ref_id), derived = found
                values |= {
                    "payload": mapping.encode_json(event_refs.slim(payload, derived)),
                    "ref_table": table,
                    "ref_id": ref_id,
                }
            seq = EventRow.insert(**values).execute()
            stored_events.append(StoredEvent(seq=seq, kind=kind, payload=payload, at=at, wall_at=wall_at))
        return stored_actions, stored_transitions, stored_events

    # --- events ---------------------------------------------------------------------------------------

    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent:
        """Store an engine event (``at`` terminal time; ``wall_at`` is now); returns it with its ``seq``."""
        values: dict[str, Any] = {
            "kind": str(kind),
            "payload": mapping.encode_json(payload),
            "at": at,
            "wall_at": time.time(),
        }
        seq = await self._run(lambda: EventRow.insert(**values).execute())
        return StoredEvent(
            seq=seq,
            kind=values["kind"],
            payload=mapping.decode_json(values["payload"]),
            at=at,
            wall_at=values["wall_at"],
        )

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
        return [
            StoredEvent(seq=seq, kind=str(kind), payload=payload, at=at, wall_at=wall_at)
            for seq, (kind, payload, at) in zip(seqs, events)
        ]

    def _save_trades_with_events(
        self, rows: list[tuple[Any, ...]], events: list[tuple[str, str, float, float]]
    ) -> list[int]:
        with self._db.atomic():
            if rows:
                self._upsert(rows)
            if not events:
                return []
            cursor = self._db.cursor()
            cursor.executemany(_INSERT_EVENT_SQL, events)
            # AUTOINCREMENT gives each row one more than the last, and no other writer comes between them
            (last,) = cursor.execute("SELECT last_insert_rowid()").fetchone()
        return list(range(int(last) - len(events) + 1, int(last) + 1))

    async def events_since(self, seq: int, limit: int = 500) -> list[StoredEvent]:
        """Events after ``seq``, oldest first."""
        return await self._run(self._events_since, seq, limit)

    def _events_since(self, seq: int, limit: int) -> list[StoredEvent]:
        query = EventRow.select().where(EventRow.seq > seq).order_by(EventRow.seq).limit(limit)
        rows = list(cast("Iterable[dict[str, Any]]", query.dicts()))  # peewee's stubs type the rows as models
        refs = [(row["ref_table"], row["ref_id"]) for row in rows if row["ref_table"]]
        derived = event_refs.referenced_payloads(refs) if refs else {}
        events = []
        for row in rows:
            ref = (row.pop("ref_table"), row.pop("ref_id"))
            event = mapping.event_from_row(row)
            if ref[0]:
                event = replace(event, payload=event_refs.expand(event.payload, derived.get(ref)))
            events.append(event)
        return events

    async def last_event_seq(self) -> int:
        """The newest event's ``seq`` (0 when there is none)."""
        return await self._run(lambda: EventRow.select(EventRow.seq).order_by(EventRow.seq.desc()).scalar() or 0)

    # --- retention and the archives --------------------------------------------------------------------

    async def retain(self, cutoff: float) -> archive.RetentionReport:
        """Move the trades closed before ``cutoff`` (terminal time), with their journal and events, and the
        events of no trade before it, to the yearly archives; then compact the main file."""
        return await self._run(archive.move_closed, self._db, self._path, cutoff)

    async def export(self, out: Path) -> int:
        """Write every trade of the archives (oldest first) and of the main file, with its transitions and
        actions, to ``out`` as JSON Lines; returns how many trades were written."""
        return await self._run(self._export, Path(out))

    def _export(self, out: Path) -> int:
        # imported here, not with the package: ``python -m app.store.export`` runs that module as ``__main__``
        from app.store import export

        databases = [(path.name, self._archive(path)) for path in reversed(archive.archive_files(self._path))]
        databases.append((self._path.name, self._db))
        return export.write_file(databases, out)

    def archive_paths(self) -> list[Path]:
        return archive.archive_files(self._path)

    def _bring_archives_up_to_date(self) -> None:
        """An archive is migrated when it is opened; at start every one is, so that after an upgrade an export
        (which only reads) finds them all at this program's schema. One that cannot be opened is left as it is:
        the desk runs on without it, and an export says what is wrong with it."""
        for path in archive.archive_files(self._path):
            try:
                self._archive(path)
            except Exception as error:  # noqa: BLE001 (an archive is history: it never holds the desk back)
                logger.error("archive %s cannot be opened: %s", path, error)

    def _archive(self, path: Path) -> SqliteDatabase:
        db = self._archives.get(path)
        if db is None:
            db = self._archives[path] = archive.open_archive(path)
        return db

    def _archive_of(self, ticket: int) -> SqliteDatabase | None:
        """The archive holding the trade, newest year first (None if no archive has it)."""
        for path in archive.archive_files(self._path):
            db = self._archive(path)
            with db.bind_ctx(MODELS):
                if TradeRow.select(TradeRow.ticket).where(TradeRow.ticket == ticket).exists():
                    return db
        return None

    def _archive_holding(self, ticket: int) -> SqliteDatabase | None:
        """The archive to read a trade's journal from: only when the main file no longer has the trade."""
        if TradeRow.select(TradeRow.ticket).where(TradeRow.ticket == ticket).exists():
            return None
        return self._archive_of(ticket)

    # --- the file -------------------------------------------------------------------------------------

    async def size_bytes(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        return await self._run(self._size_bytes)

    def _size_bytes(self) -> int:
        files = (self._path, Path(f"{self._path}-wal"))
        return sum(file.stat().st_size for file in files if file.exists())

    async def archive_size_bytes(self) -> int:
        """Bytes on disk of the yearly archives."""
        return await self._run(lambda: sum(p.stat().st_size for p in archive.archive_files(self._path)))


@functools.cache
def _insert_ignore_sql() -> str:
    """The statement that inserts one trade row unless its ticket is stored (built once: peewee takes about
    half a millisecond to build it, which was half of a registration)."""
    placeholder = tuple(column.default for column in mapping.TRADE_COLUMNS)
    sql, _ = TradeRow.insert_many([placeholder], fields=mapping.TRADE_COLUMNS).on_conflict_ignore().sql()
    return str(sql)


def _update_params(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The parameters of the trade update: the unindexed columns, then the ticket and the indexed columns."""
    values = mapping.trade_db_values(row)
    return tuple([values[i] for i in _UNINDEXED] + [values[_TICKET]] + [values[i] for i in _GUARD])


def _build_update_sql() -> str:
    columns = mapping.TRADE_COLUMNS
    assignments = ", ".join(f'"{columns[i].column_name}" = ?' for i in _UNINDEXED)
    guard = " AND ".join(f'"{columns[i].column_name}" IS ?' for i in _GUARD)
    return f'UPDATE "trades" SET {assignments} WHERE "ticket" = ? AND {guard}'


def _open_on_db_thread(path: Path) -> tuple[SqliteDatabase, Path | None, Path | None, str, str]:
    """Open, check and migrate the file, bind the models to it on this thread, build the trade upsert and
    update."""
    db, recovered_from, restored_from = open_database(path)
    db.bind(MODELS, bind_refs=False, bind_backrefs=False)  # per thread (ThreadSafeDatabaseMetadata)
    placeholder = tuple(column.default for column in mapping.TRADE_COLUMNS)
    updates = [column for column in mapping.TRADE_COLUMNS if column is not TradeRow.ticket]
    upsert_sql, _ = (
        TradeRow.insert_many([placeholder], fields=mapping.TRADE_COLUMNS)
        .on_conflict(conflict_target=[TradeRow.ticket], preserve=updates)
        .sql()
    )
    return db, recovered_from, restored_from, upsert_sql, _build_update_sql()


def _close_if_opened(opening: Future[tuple[SqliteDatabase, Path | None, Path | None, str, str]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result()[0].close()
