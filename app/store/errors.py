"""Errors of the store, placed in the program's error groups (see ``app.errors``)."""

from __future__ import annotations

from app.errors import ConfigurationError, DtmsError


class StoreError(DtmsError):
    """A database operation failed (disk full, I/O error, a value the schema refuses, file locked).

    The underlying sqlite3/peewee exception is the ``__cause__``. ``degrading`` names a failure that means
    the file cannot be trusted for writes (damaged, disk full, read-only, I/O error); None otherwise.
    """

    def __init__(self, message: str, *, degrading: str | None = None) -> None:
        super().__init__(message)
        self.degrading = degrading


class StoreClosed(StoreError):
    """The repository was used after ``close()``."""


class DatabaseTooNew(ConfigurationError):
    """The file was written by a newer DTMS Desk: its schema version is beyond the migrations known here."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"database schema version {found} is newer than this program's {known}")
        self.found = found
        self.known = known
