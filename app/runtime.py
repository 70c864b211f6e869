"""Wiring of the program's services: terminal gateway, database, engine. No Qt here.

``main.py`` builds ``Services`` from the command line and settings, then runs them with a window or
headless; tests build the same ``Services`` on a temporary data directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import memory
from app.config import AppSettings
from app.desk_lock import HeldLock, account_lock, data_dir_lock, release
from app.engine.engine import Engine
from app.options import RuntimeOptions, default_terminal_kind, metatrader5_available
from app.store.location import check_data_location
from app.store.repository import Repository
from app.terminal.gateway import Gateway
from app.terminal.transport import InProcessTransport, Transport

logger = logging.getLogger(__name__)

__all__ = ["RuntimeOptions", "Services", "default_terminal_kind", "metatrader5_available"]


@dataclass(slots=True, kw_only=True)
class Services:
    options: RuntimeOptions
    gateway: Gateway
    repository: Repository
    engine: Engine
    #: this desk's hold on the data directory (None: opened without one, by a test that builds its own)
    lock: HeldLock | None = None

    @property
    def data_dir(self) -> Path:
        return self.options.data_dir

    @property
    def settings(self) -> AppSettings:
        return self.options.settings

    @property
    def simulated(self) -> bool:
        return self.gateway.simulated

    @classmethod
    async def open(
        cls, options: RuntimeOptions, *, transport: Transport | None = None, **engine_kwargs: Any
    ) -> Services:
        """Take the data directory's lock, open the database and build gateway and engine (nothing is started
        yet). Raises ``DeskAlreadyRunning`` when another desk holds the data directory, and refuses a data folder
        on a network share (ConfigurationError, saying why and what to do)."""
        check_data_location(options.data_dir)
        options.data_dir.mkdir(parents=True, exist_ok=True)
        memory.limit_arenas()  # before the database thread starts: threads share two malloc arenas
        lock = data_dir_lock(options.data_dir)
        try:
            repository = await Repository.open(
                options.data_dir / "dtms.sqlite3", backups_kept=options.settings.engine.database.backups_kept
            )
        except BaseException:
            release(lock)
            raise
        spec = options.terminal_spec()
        if transport is None and options.in_process:
            transport = InProcessTransport(spec)
        gateway = Gateway(spec, transport=transport)

        def guard(login: int, server: str) -> Any:
            held = account_lock(login, server, options.data_dir)
            return lambda: release(held)

        engine_kwargs.setdefault("account_guard", guard)
        engine = Engine(gateway=gateway, repository=repository, settings=options.settings.engine, **engine_kwargs)
        return cls(options=options, gateway=gateway, repository=repository, engine=engine, lock=lock)

    async def close(self) -> None:
        """Stop the engine, the terminal worker (never waiting on a stuck call) and the database."""
        try:
            await self.engine.stop()
            await self.engine.backup_if_due()  # a clean stop leaves a fresh backup when one is due
        finally:
            try:
                await self.gateway.close()
            finally:
                try:
                    await self.repository.close()
                finally:
                    if self.lock is not None:
                        release(self.lock)
                        self.lock = None
        logger.info("services closed at %s", datetime.now(UTC).isoformat(timespec="seconds"))
