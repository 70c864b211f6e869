"""Wiring of the program's services: terminal gateway, database, engine. No Qt here.

``main.py`` builds ``Services`` from the command line and settings, then runs them with a window or
headless; tests build the same ``Services`` on a temporary data directory.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import memory
from app.config import AppSettings
from app.desk_lock import HeldLock, account_lock, data_dir_lock, release
from app.engine.engine import Engine
from app.store.location import check_data_location
from app.store.repository import Repository
from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import InProcessTransport, Transport

logger = logging.getLogger(__name__)


def metatrader5_available() -> bool:
    return importlib.util.find_spec("MetaTrader5") is not None


def default_terminal_kind() -> TerminalKind:
    """The real terminal where MetaTrader5 imports, the simulator everywhere else."""
    return TerminalKind.MT5 if metatrader5_available() else TerminalKind.SIM


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeOptions:
    data_dir: Path
    settings: AppSettings
    terminal: TerminalKind | None = None  # None: the settings' choice, else default_terminal_kind()
    sim_speed: float | None = None
    sim_seed: int | None = None
    sim_start: datetime | None = None
    #: ``--terminal rpyc://HOST:PORT``: the server's address (the settings' host and port otherwise)
    rpyc_address: tuple[str, int] | None = None
    #: run the terminal in this process (unit tests); the program always uses the worker process
    in_process: bool = False

    def terminal_kind(self) -> TerminalKind:
        if self.terminal is not None:
            return self.terminal
        if self.settings.terminal.kind:
            return TerminalKind(self.settings.terminal.kind)
        return default_terminal_kind()

    def terminal_spec(self) -> TerminalSpec:
        t = self.settings.terminal
        kind = self.terminal_kind()
        if kind is TerminalKind.MT5:
            return TerminalSpec(
                kind=kind,
                path=t.path or None,
                login=t.login or None,
                password=t.password,
                server=t.server or None,
                timeout_ms=t.timeout_ms,
            )
        if kind is TerminalKind.RPYC:
            host, port = self.rpyc_address or (t.host, t.port)
            return TerminalSpec(
                kind=kind,
                host=host,
                port=port,
                path=t.path or None,
                login=t.login or None,
                password=t.password,
                server=t.server or None,
                timeout_ms=t.timeout_ms,
            )
        return TerminalSpec(
            kind=kind,
            data_dir=self.data_dir,
            seed=self.sim_seed if self.sim_seed is not None else t.sim_seed,
            speed=self.sim_speed if self.sim_speed is not None else t.sim_speed,
            start_time=self.sim_start,
            margin_mode=t.sim_margin_mode,
            utc_offset_s=t.sim_utc_offset_min * 60,
        )


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
            await self.engine.backup_database()  # a clean stop leaves a fresh backup (unless degraded)
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
