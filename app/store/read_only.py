"""Reading a DTMS database file without changing anything, for tools run from a shell beside a running desk.

The connection is read-only (``mode=ro``): no migration, no recovery, no side-journal replay, no pragma that
writes, nothing moved or deleted. It holds one read transaction from its first read to its close, so it sees
every transaction committed before it opened, those still in the running desk's WAL included, and nothing
committed later. A WAL file is read through its ``-wal`` and ``-shm`` files: while the desk runs they exist;
beside a stopped desk's file (or an archive no one has open) SQLite creates them, the ``-wal`` empty, and leaves
them; in a read-only folder it cannot, and the file cannot be read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import PeeweeException, SqliteDatabase

from app.store.backup import quick_check
from app.store.errors import DatabaseTooNew
from app.store.migrations import MIGRATIONS, schema_version
from app.store.recovery import is_corruption

_NOTHING_CHANGED = "nothing was changed"


class Unreadable(Exception):
    """A file that cannot be read as it is; the message says why, in one line, and that nothing was changed."""


def open_snapshot(path: Path) -> SqliteDatabase:
    """A read-only connection to ``path``, checked (``PRAGMA quick_check``) and of this program's schema
    version, holding a read transaction; close it when done. Raises ``Unreadable``."""
    if not path.is_file():
        raise Unreadable(f"no database at {path}; {_NOTHING_CHANGED}")
    db = SqliteDatabase(f"{path.resolve().as_uri()}?mode=ro", uri=True, autoconnect=False)
    try:
        db.connect()
        db.execute_sql("BEGIN")
        problems = quick_check(db.connection())  # its first read: the snapshot is taken here
        if problems:
            raise Unreadable(f"the database looks damaged: {path}: {problems}; {_NOTHING_CHANGED}")
        _check_version(db, path)
    except BaseException as error:
        db.close()
        if isinstance(error, (sqlite3.Error, PeeweeException)):
            raise Unreadable(explain(error, path)) from error
        raise
    return db


def explain(error: BaseException, path: Path | None = None) -> str:
    """One line for the shell: what SQLite's ``error`` means for a reader that changes nothing."""
    where = f"{path}: " if path is not None else ""
    if is_corruption(error):
        return f"the database looks damaged: {where}{error}; {_NOTHING_CHANGED}"
    if path is not None and _primary_code(error) == sqlite3.SQLITE_READONLY:
        return (
            f"cannot read {path}: SQLite cannot create or write {path.name}-wal and {path.name}-shm beside it (a "
            f"read-only folder, or files of another user); start the desk, or export from a copy of the folder; "
            f"{_NOTHING_CHANGED}"
        )
    return f"cannot read {where}{error}; {_NOTHING_CHANGED}"


def _primary_code(error: BaseException) -> int:
    """SQLite's primary result code of ``error`` or of the sqlite3 error peewee wrapped in it (0: none)."""
    for candidate in (error, *error.args, error.__cause__, error.__context__):
        if isinstance(candidate, sqlite3.Error):
            return getattr(candidate, "sqlite_errorcode", 0) & 0xFF
    return 0


def _check_version(db: SqliteDatabase, path: Path) -> None:
    found, known = schema_version(db), len(MIGRATIONS)
    if found > known:
        raise Unreadable(f"{path}: {DatabaseTooNew(found, known)}: export with that DTMS Desk; {_NOTHING_CHANGED}")
    if found == 0:
        raise Unreadable(f"{path} is not a DTMS database (no schema version); {_NOTHING_CHANGED}")
    if found < known:
        raise Unreadable(
            f"{path}: database schema version {found} is older than this program's {known}: start DTMS Desk once "
            f"to bring it up to date, then export again; {_NOTHING_CHANGED}"
        )
