"""The side journal: a small JSON-lines file beside the database, ``dtms.sqlite3.journal``.

It keeps what must survive the database file being damaged:
- while the database is sound, every change of ownership (registration, adoption, claim, release) and every
  decision (an action's intent and outcome, a change of state), written right after its commit: the trade's
  full row the first time after a backup, then only the columns each decision changed; so a restore from the
  newest backup loses none of them (a partial taken after the backup is not taken twice); the file is emptied
  after each good backup, which holds all of it;
- while the database is degraded (damaged, full, read-only), everything the engine records instead: trade
  rows, the action journal, transitions and events, so protection that goes on is journaled.
At the next start it is replayed, in order, into the restored or new database.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.files import private_file
from app.store import mapping

logger = logging.getLogger(__name__)

SUFFIX = ".journal"


class SideKind(StrEnum):
    TRADE = "trade"  # {"values": trade column values}
    CHANGE = "change"  # {"ticket", "set": {column: value}}: a decision's columns, after its trade's whole row
    ACTION = "action"  # {"values": action row values}
    TRANSITION = "transition"  # {"values": transition row values}
    EVENT = "event"  # {"kind", "payload", "at", "wall_at"}
    DEGRADED = "degraded"  # {"reason"}: from here on the database was not written


class SideJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, database: Path) -> SideJournal:
        return cls(database.with_name(database.name + SUFFIX))

    def append(self, kind: SideKind, body: dict[str, Any]) -> None:
        """One line, written through to the operating system (it survives the process being killed)."""
        self.append_many([(kind, body)])

    def append_many(self, records: Sequence[tuple[SideKind, dict[str, Any]]]) -> None:
        """Lines written at once (a batch of decisions), through to the operating system."""
        if not records:
            return
        line = "".join(mapping.encode_json({"k": kind.value, **body}) + "\n" for kind, body in records)
        with self._lock:
            if not self.path.exists():
                private_file(self.path)
            with open(self.path, "a", encoding="utf-8") as file:
                file.write(line)
                file.flush()

    def records(self) -> Iterator[tuple[SideKind, dict[str, Any]]]:
        """Every whole line, oldest first (a line cut short by a kill is skipped)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                try:
                    body = json.loads(line)
                    kind = SideKind(body.pop("k"))
                except (ValueError, KeyError):
                    logger.warning("side journal %s: line %d unreadable, skipped", self.path, number)
                    continue
                yield kind, body

    def has_degraded(self) -> bool:
        """Whether a degraded run wrote here (its marker line), read without decoding every line."""
        if not self.path.exists():
            return False
        marker = mapping.encode_json({"k": SideKind.DEGRADED.value})[:-1]
        with open(self.path, encoding="utf-8") as file:
            return any(line.startswith(marker) for line in file)

    def clear(self) -> None:
        with self._lock:
            if self.path.exists():
                os.truncate(self.path, 0)

    def size(self) -> int:
        """Bytes written here since the last backup."""
        return self.path.stat().st_size if self.path.exists() else 0

    def __bool__(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0
