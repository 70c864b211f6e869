"""Retention: closed trades older than a setting move, with their journal and events, to a yearly archive file.

The archive of a year sits beside the main file (``dtms.sqlite3`` -> ``dtms-archive-2026.sqlite3``) and has the
main file's schema (the same migrations), so every reader of the main file reads an archive too. A trade is
archived by the year it closed; an event that belongs to no trade (lifecycle, rails) by the year it happened.
Nothing of an open trade is ever moved: only rows of trades that are inactive and closed before the cutoff,
and events that name no ticket at all.

Each chunk of tickets is copied (INSERT OR REPLACE, so a pass cut short is simply repeated) and then deleted
from the main file. The main file is then kept compact with ``PRAGMA incremental_vacuum`` (the file is
switched to incremental auto-vacuum once, by a VACUUM, the first time). All of it runs on the database thread.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from peewee import SqliteDatabase

from app.store.migrations import migrate
from app.store.recovery import PRAGMAS

logger = logging.getLogger(__name__)

_CHUNK = 400  # tickets moved per transaction
_TICKET = "json_extract(payload, '$.ticket')"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionReport:
    trades: int = 0
    actions: int = 0
    transitions: int = 0
    events: int = 0
    files: tuple[Path, ...] = ()
    freed_pages: int = 0

    @property
    def moved(self) -> int:
        return self.trades + self.actions + self.transitions + self.events


def archive_path(main: Path, year: int) -> Path:
    return main.with_name(f"{main.stem}-archive-{year}{main.suffix}")


def archive_files(main: Path) -> list[Path]:
    """The archives beside ``main``, newest year first."""
    pattern = re.compile(rf"{re.escape(main.stem)}-archive-(\d{{4}}){re.escape(main.suffix)}$")
    found = [
        (int(m.group(1)), p)
        for p in main.parent.glob(f"{main.stem}-archive-*{main.suffix}")
        if (m := pattern.match(p.name))
    ]
    return [p for _, p in sorted(found, reverse=True)]


def year_of(t: float) -> int:
    return datetime.fromtimestamp(t, UTC).year


def open_archive(path: Path) -> SqliteDatabase:
    """Connect to an archive on this thread, creating it (with the main file's schema) if needed."""
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, lock_type="IMMEDIATE", autoconnect=False)
    db.connect()
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _columns(db: SqliteDatabase, table: str) -> str:
    return ", ".join(column.name for column in db.get_columns(table))


def move_closed(db: SqliteDatabase, main: Path, cutoff: float) -> RetentionReport:
    """Move every trade closed before ``cutoff`` (terminal time) and its journal and events to its year's
    archive, and the events naming no ticket that happened before ``cutoff``; then compact the main file."""
    by_year: dict[int, list[int]] = defaultdict(list)
    rows = db.execute_sql(
        "SELECT ticket, closed_at FROM trades WHERE active = 0 AND closed_at IS NOT NULL "
        "AND closed_at < ? ORDER BY ticket",
        (cutoff,),
    ).fetchall()
    for ticket, closed_at in rows:
        by_year[year_of(closed_at)].append(int(ticket))
    loose = db.execute_sql(
        f"SELECT MIN(at), MAX(at) FROM events WHERE ref_table IS NULL AND {_TICKET} IS NULL AND at < ?", (cutoff,)
    ).fetchone()
    years = set(by_year)
    if loose[0] is not None:
        years |= set(range(year_of(loose[0]), year_of(loose[1]) + 1))
    counts = {"trades": 0, "actions": 0, "transitions": 0, "events": 0}
    files = []
    for year in sorted(years):
        path = archive_path(main, year)
        open_archive(path).close()
        files.append(path)
        db.execute_sql("ATTACH DATABASE ? AS archive", (str(path),))
        try:
            tickets = by_year.get(year, [])
            for start in range(0, len(tickets), _CHUNK):
                _move_tickets(db, tickets[start : start + _CHUNK], counts)
            start_at = datetime(year, 1, 1, tzinfo=UTC).timestamp()
            end_at = min(cutoff, datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
            _move(
                db,
                "events",
                f"ref_table IS NULL AND {_TICKET} IS NULL AND at >= ? AND at < ?",
                (start_at, end_at),
                counts,
            )
        finally:
            db.execute_sql("DETACH DATABASE archive")
    freed = compact(db) if files else 0
    report = RetentionReport(files=tuple(files), freed_pages=freed, **counts)
    if report.moved:
        logger.info(
            "retention: %d closed trades with %d actions, %d transitions and %d events moved to %s; %d pages freed",
            report.trades,
            report.actions,
            report.transitions,
            report.events,
            ", ".join(p.name for p in files),
            freed,
        )
    return report


def _move_tickets(db: SqliteDatabase, tickets: list[int], counts: dict[str, int]) -> None:
    marks = ", ".join("?" * len(tickets))
    with db.atomic():
        # the events first: they find their rows through the journal tables
        _move(
            db,
            "events",
            f"(ref_table = 'actions' AND ref_id IN (SELECT id FROM main.actions WHERE ticket IN "
            f"({marks}))) OR (ref_table = 'transitions' AND ref_id IN (SELECT id FROM main.transitions WHERE "
            f"ticket IN ({marks}))) OR (ref_table IS NULL AND {_TICKET} IN ({marks}))",
            (*tickets,) * 3,
            counts,
            atomic=False,
        )
        for table in ("actions", "transitions", "trades"):
            _move(db, table, f"ticket IN ({marks})", tuple(tickets), counts, atomic=False)


def _move(
    db: SqliteDatabase,
    table: str,
    where: str,
    params: tuple[object, ...],
    counts: dict[str, int],
    *,
    atomic: bool = True,
) -> None:
    columns = _columns(db, table)
    if atomic:
        with db.atomic():
            _move(db, table, where, params, counts, atomic=False)
        return
    db.execute_sql(
        f"INSERT OR REPLACE INTO archive.{table} ({columns}) SELECT {columns} FROM main.{table} WHERE {where}", params
    )
    counts[table] += db.execute_sql(f"DELETE FROM main.{table} WHERE {where}", params).rowcount


def compact(db: SqliteDatabase) -> int:
    """Give the free pages back to the file system; returns how many were freed."""
    if db.execute_sql("PRAGMA auto_vacuum").fetchone()[0] != 2:
        db.execute_sql("PRAGMA auto_vacuum = INCREMENTAL")
        before = db.execute_sql("PRAGMA page_count").fetchone()[0]
        db.execute_sql("VACUUM")  # once: switches the file to incremental vacuum
        return before - db.execute_sql("PRAGMA page_count").fetchone()[0]
    free = db.execute_sql("PRAGMA freelist_count").fetchone()[0]
    if free:
        db.execute_sql("PRAGMA incremental_vacuum").fetchall()
    return free
