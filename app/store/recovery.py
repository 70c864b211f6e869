"""Opening the database file: connect, check, migrate, and survive a damaged file.

A file that is not a database or is malformed (``PRAGMA quick_check`` fails, or SQLite reports SQLITE_CORRUPT
or SQLITE_NOTADB) is moved aside as ``<name>.corrupt-<UTC timestamp>`` with its ``-wal`` and ``-shm`` files,
never deleted, and a fresh database takes its place; the engine then rebuilds from the terminal. Any other
failure (file locked by another program, permissions, a newer schema) is raised: those are not damage, and
moving such a file aside would throw away good data.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from peewee import SqliteDatabase

from app.files import private_file
from app.store.backup import newest_good_backup, restore
from app.store.migrations import MIGRATIONS, Migration, migrate

logger = logging.getLogger(__name__)

# page_size and auto_vacuum first: they only take effect on a new file, before WAL mode writes the header.
# Small pages make each commit (a trade row, a journal row, an event, their index pages) append a quarter of
# the bytes to the WAL; incremental auto-vacuum lets retention give freed pages back. The page cache is capped
# at 512 KiB per connection: it otherwise grows with the file up to 2 MiB, most of the process's memory growth.
# The WAL is copied into the file every 4,000 pages (about 4 MiB) instead of SQLite's 1,000: a checkpoint writes
# each page changed since the last one once, and the same trade and journal pages change again and again, so a
# rarer checkpoint writes fewer of them (a decision's commit 6.2 KB instead of 8.0 KB with them, measured).
PRAGMAS = {
    "page_size": 1024,
    "auto_vacuum": 2,
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "cache_size": -512,
    "wal_autocheckpoint": 4000,
}
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
#: primary result codes that mean the file cannot be trusted for writes until the program restarts
_DEGRADING = {
    _SQLITE_CORRUPT: "damaged",
    _SQLITE_NOTADB: "damaged",
    _SQLITE_READONLY: "read-only",
    _SQLITE_IOERR: "disk I/O error",
    _SQLITE_FULL: "disk full",
    _SQLITE_CANTOPEN: "cannot open",
}
_SIDE_FILES = ("-wal", "-shm")


def is_corruption(error: BaseException) -> bool:
    """True when ``error``, or the sqlite3 error it wraps (peewee keeps it in its args), means damage.

    Damage is SQLITE_CORRUPT or SQLITE_NOTADB; a locked, unreadable or missing file is not.
    """
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sqlite3.DatabaseError):
            code = getattr(current, "sqlite_errorcode", 0) & 0xFF  # primary code of an extended one
            if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                return True
        pending.extend((current.__cause__, current.__context__, *current.args))
    return False


def degrading_problem(error: BaseException) -> str | None:
    """A short name for a failure that means the database cannot be trusted for writes (damage, disk full,
    read-only file, I/O error); None for anything else (a busy file, a refused value)."""
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sqlite3.DatabaseError):
            code = getattr(current, "sqlite_errorcode", 0) & 0xFF
            if code in _DEGRADING:
                return f"{_DEGRADING[code]}: {current}"
            text = str(current).lower()
            for needle, name in (
                ("malformed", "damaged"),
                ("not a database", "damaged"),
                ("readonly", "read-only"),
                ("disk is full", "disk full"),
                ("disk i/o", "disk I/O error"),
            ):
                if needle in text:
                    return f"{name}: {current}"
        pending.extend((current.__cause__, current.__context__, *current.args))
    return None


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename ``path`` and its side files to ``<name>.corrupt-<UTC timestamp>[-n]``; returns the new path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    attempt = 1
    while True:
        suffix = "" if attempt == 1 else f"-{attempt}"
        target = path.with_name(f"{path.name}.corrupt-{stamp}{suffix}")
        if not any(Path(f"{target}{side}").exists() for side in ("", *_SIDE_FILES)):
            break
        attempt += 1
    path.rename(target)
    for side in _SIDE_FILES:
        source = Path(f"{path}{side}")
        if source.exists():
            source.rename(f"{target}{side}")
    return target


def find_damage(path: Path) -> str | None:
    """What SQLite or ``PRAGMA quick_check`` says is wrong with the file; None when sound or absent.

    The check runs on a read-only connection: unlike a writer, it never checkpoints the WAL into the file
    or deletes the WAL at close, so a damaged file can be moved aside exactly as it was found.
    """
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if is_corruption(error):
            return str(error)
        raise
    return None if problems == ["ok"] else "; ".join(problems[:5])


def _connect(path: Path, migrations: Sequence[Migration]) -> SqliteDatabase:
    # autoconnect=False: a query from any thread but the one that opened it fails instead of quietly
    # opening a second connection there (peewee connections are per thread)
    private_file(path)  # SQLite gives its -wal and -shm files the database file's mode
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, lock_type="IMMEDIATE", autoconnect=False)
    try:
        db.connect()
        migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db


def _set_aside(path: Path, problem: object) -> tuple[Path, Path | None]:
    """Move the damaged file aside and put the newest good backup in its place (if there is one)."""
    moved = move_aside(path)
    restored = newest_good_backup(path)
    if restored is not None:
        restore(restored, path)
        logger.error(
            "database %s is damaged (%s); moved aside as %s, restored the backup %s", path, problem, moved, restored
        )
    else:
        logger.error(
            "database %s is damaged (%s); moved aside as %s; no good backup: starting a new one", path, problem, moved
        )
    return moved, restored


def open_database(
    path: Path, migrations: Sequence[Migration] = MIGRATIONS
) -> tuple[SqliteDatabase, Path | None, Path | None]:
    """Connect to ``path`` on the calling thread, checked and migrated.

    Returns the connected database, where a damaged file was moved (else None) and the backup restored in
    its place (None: none was good, or there was no damage).
    """
    problem = find_damage(path)
    moved, restored = _set_aside(path, problem) if problem is not None else (None, None)
    try:
        return _connect(path, migrations), moved, restored
    except Exception as error:
        # damage the check could not see, met while migrating
        if moved is not None or not is_corruption(error):
            raise
        moved, restored = _set_aside(path, error)
    return _connect(path, migrations), moved, restored
