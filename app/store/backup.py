"""Consistent online backups of the database (SQLite's backup API) and their restore after damage.

Backups are ``<data dir>/backups/dtms-<UTC timestamp>.sqlite3``, each checked with ``PRAGMA quick_check``
before it replaces nothing and counts: a backup of a file that went bad is refused, never kept as good.
The newest few are kept. On damage found at start, the newest backup that passes the check is copied in.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.files import private_file

logger = logging.getLogger(__name__)

DIRECTORY = "backups"
PREFIX = "dtms-"
SUFFIX = ".sqlite3"
#: pages copied per step of the backup API (the database thread hands the GIL over between steps)
PAGES_PER_STEP = 256


class BackupRefused(Exception):
    """The copy failed its integrity check: the database itself is likely damaged."""


def backup_dir(database: Path) -> Path:
    return database.parent / DIRECTORY


def backups(database: Path) -> list[Path]:
    """Backups of ``database``, newest first."""
    folder = backup_dir(database)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), reverse=True)


def quick_check(connection: sqlite3.Connection) -> str:
    """What ``PRAGMA quick_check`` finds wrong ("" when sound)."""
    problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
    if problems == ["ok"]:
        return ""
    text = "; ".join(" ".join(str(p).split()) for p in problems)
    return text if len(text) <= 240 else text[:237] + "..."


def take_backup(source: sqlite3.Connection, database: Path, *, keep: int, now: datetime | None = None) -> Path:
    """Copy the open database (a consistent snapshot) into a new checked backup; prune to ``keep``."""
    folder = backup_dir(database)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{PREFIX}{stamp}{SUFFIX}"
    partial = target.with_suffix(".partial")
    private_file(partial)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy, pages=PAGES_PER_STEP, sleep=0.0)
        problem = quick_check(copy)
    finally:
        copy.close()
    if problem:
        partial.unlink(missing_ok=True)
        raise BackupRefused(problem)
    os.replace(partial, target)
    for old in backups(database)[keep:]:
        old.unlink(missing_ok=True)
    return target


def newest_good_backup(database: Path) -> Path | None:
    for candidate in backups(database):
        try:
            connection = sqlite3.connect(f"{candidate.resolve().as_uri()}?mode=ro", uri=True)
            try:
                if not quick_check(connection):
                    return candidate
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            logger.warning("backup %s unreadable: %s", candidate, error)
        logger.warning("backup %s is damaged too; trying an older one", candidate)
    return None


def restore(backup: Path, database: Path) -> None:
    """Put a copy of ``backup`` where the (moved-aside) database was."""
    private_file(database)
    shutil.copyfile(backup, database)
