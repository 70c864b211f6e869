"""What the program runs on: data directory, settings and terminal, as the command line and settings say.

Its own module, light to import (no engine, no numpy): the command line is parsed into it and the terminal
worker, started first thing, is told its spec from it before the rest of the program is imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from app.config import AppSettings
from app.terminal.spec import TerminalKind, TerminalSpec


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
        if kind in (TerminalKind.MT5, TerminalKind.RPYC):
            spec = TerminalSpec(
                kind=TerminalKind.MT5,
                path=t.path or None,
                login=t.login or None,
                password=t.password,
                server=t.server or None,
                timeout_ms=t.timeout_ms,
            )
            if kind is TerminalKind.MT5:
                return spec
            host, port = self.rpyc_address or (t.host, t.port)  # the same account, on the server's machine
            return replace(spec, kind=kind, host=host, port=port)
        return TerminalSpec(
            kind=kind,
            data_dir=self.data_dir,
            seed=self.sim_seed if self.sim_seed is not None else t.sim_seed,
            speed=self.sim_speed if self.sim_speed is not None else t.sim_speed,
            start_time=self.sim_start,
            margin_mode=t.sim_margin_mode,
            utc_offset_s=t.sim_utc_offset_min * 60,
        )
