"""Which terminal a gateway worker drives, and how it connects.

A ``TerminalSpec`` is plain, picklable data: the gateway sends it to its worker process, which calls
``create_terminal()`` there, so the terminal (real module or simulator) only ever exists in the worker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


class TerminalKind(StrEnum):
    SIM = "sim"
    MT5 = "mt5"
    #: The MetaTrader5 module of an RPyC classic server (mt5linux): a terminal under Wine, in Docker, elsewhere.
    RPYC = "rpyc"
    #: Any importable module-like object with the terminal surface, named by ``module`` (used by tests).
    MODULE = "module"


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalSpec:
    kind: TerminalKind = TerminalKind.SIM
    #: For ``MODULE``: ``"package.module"`` or ``"package.module:attribute"``.
    module: str = ""
    # --- simulator ---
    data_dir: Path | None = None
    seed: int = 20240601
    speed: float = 1.0
    start_time: datetime | None = None
    margin_mode: int = 2
    #: the simulated server's time zone, seconds ahead of UTC (a multiple of 900)
    utc_offset_s: int = 0
    # --- real terminal (login/password/server also name the simulator's account when set) ---
    path: str | None = None
    login: int | None = None
    password: str = field(default="", repr=False)
    server: str | None = None
    timeout_ms: int = 60_000
    portable: bool = False
    # --- RPyC classic server (kind RPYC) ---
    host: str = ""
    port: int = 18812
    connect_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TerminalKind(self.kind))
        if self.kind is TerminalKind.MODULE and not self.module:
            raise ValueError("a module terminal needs the module's import path")
        if self.kind is TerminalKind.RPYC and (not self.host or not 0 < self.port < 65536):
            raise ValueError("an rpyc terminal needs the server's host and a port from 1 to 65535")

    @property
    def is_simulated(self) -> bool:
        """True when the terminal answers simulator control calls (everything but a real module)."""
        return self.kind not in (TerminalKind.MT5, TerminalKind.RPYC)

    def create_terminal(self) -> Any:
        """Build the terminal object; runs inside the worker process."""
        if self.kind is TerminalKind.MT5:
            import MetaTrader5

            return MetaTrader5
        if self.kind is TerminalKind.RPYC:
            from app.terminal.rpyc_terminal import RpycTerminal

            return RpycTerminal(self.host, self.port, connect_timeout=self.connect_timeout_s)
        if self.kind is TerminalKind.MODULE:
            name, _, attribute = self.module.partition(":")
            target = importlib.import_module(name)
            return getattr(target, attribute) if attribute else target
        from app.terminal.sim.terminal import SimulatedTerminal

        options: dict[str, Any] = {
            "data_dir": self.data_dir,
            "seed": self.seed,
            "speed": self.speed,
            "start_time": self.start_time,
            "margin_mode": self.margin_mode,
        }
        if self.utc_offset_s:
            options["utc_offset_s"] = self.utc_offset_s
        options.update(self._account())
        return SimulatedTerminal(**options)

    def initialize_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``initialize()``: only what was set, so the terminal's defaults apply."""
        kwargs: dict[str, Any] = {}
        if self.kind in (TerminalKind.MT5, TerminalKind.RPYC):  # the path is on the terminal's own machine
            if self.path:
                kwargs["path"] = self.path
            if self.portable:
                kwargs["portable"] = True
        kwargs.update(self._account())
        kwargs["timeout"] = self.timeout_ms
        return kwargs

    def _account(self) -> dict[str, Any]:
        account: dict[str, Any] = {}
        if self.login is not None:
            account["login"] = self.login
        if self.password:
            account["password"] = self.password
        if self.server:
            account["server"] = self.server
        return account
