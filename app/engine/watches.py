"""Two watches that make trouble visible while it lasts: a terminal call unanswered past a short threshold, and
a database that fails its integrity check or its backup.

- ``StallWatch`` looks at the gateway's call in flight a few times a second (on the event loop, which a
  hung terminal in its worker process does not block) and reports "not answering" after
  ``stall_threshold_s``, until the call returns or the watchdog replaces the worker.
- ``DatabaseWatch`` runs ``PRAGMA quick_check`` every ``check_interval_s`` (less often once a check takes more
  than ``CHECK_TIME_SHARE`` of the time) and considers a backup every ``backup_interval_s`` (taken when the file
  is small, the changes since the last weigh enough against it, or the last is ``backup_max_age_s`` old; at once
  when the side journal has outgrown the file) on the database thread; a failed check or a refused backup
  degrades the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from app.engine.events import EventKind
from app.engine.recorder import Recorder
from app.engine.settings import EngineSettings

logger = logging.getLogger(__name__)

STALL_POLL_S = 0.25
#: calls that are expected to take long (connecting shows as CONNECTING instead)
_EXEMPT = frozenset({"initialize", "login", "shutdown"})


class StallWatch:
    def __init__(self, gateway: Any, recorder: Recorder, settings: Callable[[], EngineSettings]) -> None:
        self._gateway = gateway
        self._recorder = recorder
        self._settings = settings
        #: seconds the call in flight has waited, once past the threshold; None while the terminal answers
        self.stalled_s: float | None = None
        self.call = ""

    def poll(self) -> None:
        """One look at the call in flight; publishes TERMINAL_STALL when "not answering" starts and ends."""
        in_flight = getattr(self._gateway, "in_flight", None)
        current = in_flight() if callable(in_flight) else None
        threshold = self._settings().connection.stall_threshold_s
        if current is not None and current[0] not in _EXEMPT and current[1] >= threshold:
            started = self.stalled_s is None
            self.stalled_s, self.call = current[1], current[0]
            if started:
                logger.warning("the terminal is not answering: %s waiting %.1f s", self.call, self.stalled_s)
                self._recorder.live(
                    EventKind.TERMINAL_STALL, {"stalled": True, "seconds": round(self.stalled_s, 1), "call": self.call}
                )
        elif self.stalled_s is not None:
            seconds, call = self.stalled_s, self.call
            self.stalled_s, self.call = None, ""
            logger.info("the terminal answers again (%s waited at least %.1f s)", call, seconds)
            self._recorder.live(
                EventKind.TERMINAL_STALL, {"stalled": False, "seconds": round(seconds, 1), "call": call}
            )

    async def run(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(STALL_POLL_S)


#: a backup is taken early once the side journal outgrows the database file, and this at the least
JOURNAL_BACKUP_LEAST_BYTES = 8 * 1024 * 1024
#: a due backup of a file larger than ``SMALL_FILE_BYTES`` waits (up to ``database.backup_max_age_s``) while the
#: side journal weighs less than the file divided by this: a copy then writes at most this many times what the
#: changes since the last one wrote. A smaller file is copied whenever a backup is due (at most 8 MB a day).
BACKUP_JOURNAL_SHARE = 16
SMALL_FILE_BYTES = 8 * 1024 * 1024
#: the most of the time the integrity check may take: it reads the whole file, and a file grown over months
#: takes half a second where a new one takes milliseconds
CHECK_TIME_SHARE = 0.001


def check_spacing(interval_s: float, took_s: float) -> float:
    """Seconds until the next integrity check: ``database.check_interval_s``, or longer for a check that took
    more than ``CHECK_TIME_SHARE`` of that."""
    return max(interval_s, took_s / CHECK_TIME_SHARE)


class DatabaseWatch:
    def __init__(self, repository: Any, recorder: Recorder, settings: Callable[[], EngineSettings]) -> None:
        self._repository = repository
        self._recorder = recorder
        self._settings = settings
        self.last_check_at: float | None = None
        self.last_backup: Any = None
        newest = getattr(repository, "newest_backup_at", None)
        #: when the newest backup was written (epoch seconds; 0.0: none is known)
        self.backed_up_at: float = (newest() if newest is not None else None) or 0.0

    async def check(self) -> str:
        """Run the integrity check now; a problem degrades the database. Returns the problem ("" if sound).

        A check that fails because the file cannot be read as a database (damaged, unreadable) is a problem; one
        that could not run for another reason (the file busy, a fault of the check itself) says so and degrades
        nothing: shutting out new trades is for a file found wanting, not for a check that did not look."""
        if self._recorder.problem:
            return self._recorder.problem
        check = getattr(self._repository, "check", None)
        if check is None:
            return ""
        try:
            problem = await check()
        except Exception as error:  # noqa: BLE001 (whatever stopped the check is reported)
            problem = getattr(error, "degrading", None) or ""
            if not problem:
                logger.error("the integrity check could not run: %s", error, exc_info=not hasattr(error, "degrading"))
                return f"the integrity check could not run: {error}"
        self.last_check_at = time.time()
        if problem:
            self._recorder.degrade(f"damaged: integrity check failed: {problem}")
        return problem

    async def backup(self, *, unless_unchanged: bool = False) -> bool:
        """A backup now, unless the database is degraded (or, with ``unless_unchanged``, nothing was written since
        the last backup); a refused copy degrades it. True when a backup was taken."""
        backup = getattr(self._repository, "backup", None)
        if self._recorder.problem or backup is None:
            return False
        keep = self._settings().database.backups_kept
        try:
            taken = await backup(keep, unless_unchanged=unless_unchanged)
        except Exception as error:  # noqa: BLE001 (any failure of the backup is reported as degraded)
            reason = getattr(error, "degrading", None) or f"damaged: the backup failed its check: {error}"
            logger.error("backup failed: %s", error)
            self._recorder.degrade(reason)
            return False
        if taken is None:
            logger.debug("no backup: nothing written since the last one")
            return False
        self.last_backup = taken
        self.backed_up_at = time.time()
        logger.info("database backed up to %s", self.last_backup)
        return True

    async def copy_worth_it(self) -> bool:
        """Whether a due backup is worth copying the whole file: the file is small (``SMALL_FILE_BYTES``), the
        side journal (what changed since the last copy) weighs at least ``1 / BACKUP_JOURNAL_SHARE`` of it, or
        the last copy is ``backup_max_age_s`` old."""
        age = time.time() - self.backed_up_at
        if not 0.0 <= age < self._settings().database.backup_max_age_s:  # old, or the clock was set back past it
            return True
        side = getattr(self._repository, "side", None)
        size_bytes = getattr(self._repository, "size_bytes", None)
        if side is None or size_bytes is None:
            return True
        size = await size_bytes()
        return size <= SMALL_FILE_BYTES or side.size() * BACKUP_JOURNAL_SHARE >= size

    async def backup_if_due(self) -> bool:
        """The periodic and the clean stop's backup: taken when something was written since the last one and the
        copy is worth it (``copy_worth_it``). True when a backup was taken."""
        if self._recorder.problem or not await self.copy_worth_it():
            logger.debug("no backup yet: little changed since the last one against the file's size")
            return False
        return await self.backup(unless_unchanged=True)

    async def journal_outgrew_file(self) -> bool:
        """Whether the side journal has grown as large as the database file (and ``JOURNAL_BACKUP_LEAST_BYTES``):
        a copy then costs no more than the journal already wrote, and a restore replays less."""
        side = getattr(self._repository, "side", None)
        size_bytes = getattr(self._repository, "size_bytes", None)
        if side is None or size_bytes is None:
            return False
        journal = side.size()
        return journal >= JOURNAL_BACKUP_LEAST_BYTES and journal >= await size_bytes()

    async def run(self) -> None:
        database = self._settings().database
        next_check = time.monotonic() + database.check_interval_s
        next_backup = time.monotonic() + database.backup_interval_s
        while not self._recorder.problem:
            await asyncio.sleep(max(0.05, min(next_check, next_backup) - time.monotonic()))
            database = self._settings().database
            now = time.monotonic()
            if now >= next_check:
                await self.check()
                next_check = now + check_spacing(database.check_interval_s, time.monotonic() - now)
                if not self._recorder.problem and await self.journal_outgrew_file():
                    next_backup = now + database.backup_interval_s
                    await self.backup()
            if now >= next_backup and not self._recorder.problem:
                next_backup = now + database.backup_interval_s
                await self.backup_if_due()
