"""The repository's part in trade safety: ownership written with its event in one transaction and copied to
the side journal, integrity checks while running, backups, and the side journal's replay at start.

Everything but the integrity check runs on the database thread (``Repository._run``), so a backup never
interleaves with a commit: after a good backup, the side journal holds exactly what came after it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from peewee import SqliteDatabase

from app.engine.model import ActionRecord, StoredEvent, Trade, Transition
from app.store import mapping
from app.store.backup import backups, quick_check, take_backup
from app.store.models import ActionRow, EventRow, TradeRow, TransitionRow
from app.store.side_journal import SideJournal, SideKind

T = TypeVar("T")

_INDEX = {name: index for index, name in enumerate(mapping.TRADE_FIELDS)}
_TICKET = _INDEX["ticket"]

logger = logging.getLogger(__name__)


class Safekeeping:
    """Mixed into ``Repository``."""

    _db: SqliteDatabase
    _path: Path
    side: SideJournal
    _backed_up_at_changes: int | None  # the connection's total_changes at the last backup
    _aside_failing = False  # the last copy of a decision to the side journal failed (reported once)
    _whole_rows: set[int]  # tickets whose whole row the side journal holds since it was last emptied

    if TYPE_CHECKING:  # provided by Repository

        async def _run(self, work: Callable[..., T], *args: Any, beside: bool = False) -> T: ...
        def _upsert(self, rows: Sequence[tuple[Any, ...]]) -> None: ...
        def _insert_if_absent(self, values: tuple[Any, ...]) -> bool: ...
        def _insert_event(self, values: dict[str, Any]) -> int: ...

    # --- ownership: committed with its event, then copied aside (like a decision: it stands once committed) ---

    async def register_trade(
        self, trade: Trade, kind: str, payload: dict[str, Any], at: float
    ) -> tuple[bool, StoredEvent]:
        """Insert the trade (or take an archived row of the ticket over again) and its event in one
        transaction. Returns whether the row is new, and the stored event."""
        values = mapping.trade_values(trade)
        event = _event_values(kind, payload, at)
        return await self._run(self._register_on_thread, values, event)

    def _register_on_thread(self, values: tuple[Any, ...], event: dict[str, Any]) -> tuple[bool, StoredEvent]:
        with self._db.atomic():
            inserted = self._insert_if_absent(values)
            if not inserted:
                self._upsert([values])
            seq = self._insert_event(event)
        self.copy_aside(values, (), ())
        return inserted, _stored(seq, event)

    async def save_trade_with_event(self, trade: Trade, kind: str, payload: dict[str, Any], at: float) -> StoredEvent:
        """A change of ownership (claim, release): the row and its event in one transaction, then aside."""
        values = mapping.trade_values(trade)
        event = _event_values(kind, payload, at)
        return await self._run(self._save_with_event_on_thread, values, event)

    def _save_with_event_on_thread(self, values: tuple[Any, ...], event: dict[str, Any]) -> StoredEvent:
        with self._db.atomic():
            self._upsert([values])
            seq = self._insert_event(event)
        self.copy_aside(values, (), ())
        return _stored(seq, event)

    # --- aside: what a degraded database cannot take ------------------------------------------------------

    def copy_aside(
        self,
        trade_values: Sequence[Any],
        actions: Sequence[dict[str, Any]],
        transitions: Sequence[dict[str, Any]],
        *,
        changed: frozenset[str] | None = None,
    ) -> None:
        """A committed decision's or change of ownership's rows, copied aside after the commit (see
        ``_replay_on_thread``)."""
        self.copy_aside_many([(trade_values, actions, transitions, changed)])

    def copy_aside_many(
        self,
        decisions: Sequence[
            tuple[Sequence[Any], Sequence[dict[str, Any]], Sequence[dict[str, Any]], frozenset[str] | None]
        ],
    ) -> None:
        """Committed decisions' rows (trade values, action and transition rows, the trade's fields each changed),
        copied aside in one write after their commit. Once the journal holds a trade's whole row (since the last
        backup), only the fields a decision changed are written. The decisions stand once committed: a copy that
        cannot be written is reported (once while it lasts), never raised."""
        records: list[tuple[SideKind, dict[str, Any]]] = []
        whole: set[int] = set()
        for trade_values, actions, transitions, changed in decisions:
            ticket = int(trade_values[_TICKET])
            if changed is None or (ticket not in self._whole_rows and ticket not in whole):
                records.append((SideKind.TRADE, {"values": list(trade_values)}))
                whole.add(ticket)
            elif changed:
                columns = {name: trade_values[i] for i, name in enumerate(mapping.TRADE_FIELDS) if name in changed}
                records.append((SideKind.CHANGE, {"ticket": ticket, "set": columns}))
            records += [(SideKind.ACTION, {"values": values}) for values in actions]
            records += [(SideKind.TRANSITION, {"values": values}) for values in transitions]
        try:
            self.side.append_many(records)
        except OSError as error:
            # what got there is not known: each of these trades' next copy is its whole row
            self._whole_rows -= {int(values[_TICKET]) for values, _, _, _ in decisions}
            if not self._aside_failing:
                logger.error(
                    "the side journal %s cannot be written (%s): decisions and registrations since the newest backup "
                    "would be lost should the database file be damaged",
                    self.side.path,
                    error,
                )
            self._aside_failing = True
        else:
            self._whole_rows |= whole
            self._aside_failing = False

    def aside_trade(self, trade: Trade) -> None:
        self.side.append(SideKind.TRADE, {"values": list(mapping.trade_values(trade))})

    def aside_records(self, trade: Trade, actions: Sequence[ActionRecord], transitions: Sequence[Transition]) -> None:
        self.aside_trade(trade)
        for record in actions:
            self.side.append(SideKind.ACTION, {"values": mapping.action_values(record)})
        for item in transitions:
            self.side.append(SideKind.TRANSITION, {"values": mapping.transition_values(item)})

    def aside_event(self, kind: str, payload: dict[str, Any], at: float, wall_at: float) -> None:
        self.side.append(SideKind.EVENT, {"kind": kind, "payload": payload, "at": at, "wall_at": wall_at})

    def aside_degraded(self, reason: str) -> None:
        self.side.append(SideKind.DEGRADED, {"reason": reason})

    # --- checks and backups -------------------------------------------------------------------------------

    async def check(self) -> str:
        """``PRAGMA quick_check`` of the file and its WAL as they are on disk: "" when sound.

        It runs on a fresh read-only connection: the program's own connection answers from its page cache,
        so damage to the WAL or to cached pages would go unseen until a restart. It runs beside the database
        thread (a reader never blocks a writer in WAL mode): a check of a large file takes tens of milliseconds,
        which every commit would otherwise wait behind."""
        return await self._run(self._check_on_thread, beside=True)

    def _check_on_thread(self) -> str:
        connection = sqlite3.connect(f"{self._path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            return quick_check(connection)
        finally:
            connection.close()

    def newest_backup_at(self) -> float | None:
        """When the newest backup was written (epoch seconds; None: there is none)."""
        found = backups(self._path)
        try:
            return found[0].stat().st_mtime if found else None
        except OSError:  # pruned meanwhile
            return None

    async def backup(self, keep: int = 3, *, unless_unchanged: bool = False) -> Path | None:
        """A consistent, checked copy in ``backups/``; the side journal is emptied once it is kept.
        Raises ``StoreError`` (wrapping ``BackupRefused``) when the copy fails its check.

        ``unless_unchanged``: None instead of a copy when nothing was written since this program's last backup
        (a backup copies the whole file: a desk left running over a quiet weekend copies it once)."""
        return await self._run(self._backup_on_thread, keep, unless_unchanged)

    def _backup_on_thread(self, keep: int, unless_unchanged: bool = False) -> Path | None:
        connection = self._db.connection()
        changes = connection.total_changes  # rows written by this connection since it opened
        if unless_unchanged and changes == self._backed_up_at_changes and not self.side:
            return None
        target = take_backup(connection, self._path, keep=keep)
        self.side.clear()
        self._whole_rows.clear()
        self._backed_up_at_changes = changes
        return target

    # --- replay at start ------------------------------------------------------------------------------------

    def _replay_on_thread(self, everything: bool) -> int:
        """Write the side journal's records into the database, oldest first (later rows win).

        ``everything``: the database was restored from a backup (or rebuilt), which holds none of them; else
        only what came after the first degraded marker is missing (before it, each was copied after its
        commit and is in the file)."""
        count = 0
        missing = everything
        with self._db.atomic():
            for kind, body in self.side.records():
                if not missing:
                    missing = kind is SideKind.DEGRADED
                    continue
                match kind:
                    case SideKind.TRADE:
                        self._upsert([mapping.complete_values(body["values"])])
                    case SideKind.CHANGE:
                        columns = {mapping.TRADE_COLUMNS[_INDEX[name]]: value for name, value in body["set"].items()}
                        TradeRow.update(columns).where(TradeRow.ticket == body["ticket"]).execute()
                    case SideKind.ACTION:
                        ActionRow.insert(**body["values"]).execute()
                    case SideKind.TRANSITION:
                        TransitionRow.insert(**body["values"]).execute()
                    case SideKind.EVENT:
                        EventRow.insert(
                            kind=body["kind"],
                            payload=mapping.encode_json(body["payload"]),
                            at=body["at"],
                            wall_at=body["wall_at"],
                        ).execute()
                    case SideKind.DEGRADED:
                        continue
                count += 1
        return count

    def needs_replay(self, damaged_at_start: bool) -> bool:
        """Replay after damage at start, or when the journal holds what a degraded run could not store;
        otherwise its ownership rows are already in the sound database."""
        if not self.side:
            return False
        return damaged_at_start or self.side.has_degraded()

    def _start_backup_on_thread(self, keep: int) -> Path | None:
        try:
            return self._backup_on_thread(keep)
        except Exception as error:  # noqa: BLE001 (the program still starts; the integrity check reports)
            logger.error("no backup at start: %s", error)
            return None


def _event_values(kind: str, payload: dict[str, Any], at: float) -> dict[str, Any]:
    return {"kind": str(kind), "payload": mapping.encode_json(payload), "at": at, "wall_at": time.time()}


def _stored(seq: int, values: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        seq=seq,
        kind=values["kind"],
        payload=mapping.decode_json(values["payload"]),
        at=values["at"],
        wall_at=values["wall_at"],
    )
