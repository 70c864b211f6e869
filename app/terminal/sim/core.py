"""The machinery under every simulated module call: one call at a time, last_error, the connection,
faults, the server catching up with the clock, and saving what the call changed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from app import memory
from app.terminal.sim import codes
from app.terminal.sim.codes import CallError
from app.terminal.sim.faults import FaultKind, FaultPlan
from app.terminal.sim.gil import block_holding_gil
from app.terminal.sim.store import BrokerStore
from app.terminal.sim.symbols import SymbolSpec
from app.terminal.sim.world import World, WorldSettings, build_world, start_seconds

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How often (wall seconds) the clock and the market are saved while state keeps changing.
_CLOCK_SAVE_EVERY = 5.0
_MARKET_SAVE_EVERY = 300.0


class TerminalCore:
    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        seed: int = 20240601,
        speed: float = 1.0,
        start_time: float | datetime | None = None,
        margin_mode: int = 2,
        balance: float = 10_000.0,
        login: int = 5_000_123,
        password: str = "",
        server: str = "DTMS-Sim",
        symbols: dict[str, SymbolSpec] | None = None,
        history_days: float = 21.0,
        utc_offset_s: int = 0,
        replay: dict[str, Any] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._last_error: codes.Error = codes.SUCCESS
        self._connected = False
        self._books: set[str] = set()  # market_book_add subscriptions
        self._faults = FaultPlan()
        self._frozen_ticks: dict[str, Any] = {}  # the last ticks shown while the broker link is lost
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._store = BrokerStore(self._data_dir) if self._data_dir is not None else None
        settings = WorldSettings(
            seed=seed, speed=speed, start_time=start_seconds(start_time), margin_mode=margin_mode,
            balance=balance, login=login, password=password, server=server, symbols=symbols,
            history_days=history_days, utc_offset_s=utc_offset_s, replay=replay,
        )  # fmt: skip
        self._world: World = build_world(settings, self._store.load() if self._store else None)
        self._clock_saved_at = self._market_saved_at = float("-inf")
        self._persist(everything=True)
        if self._store is not None:
            # the saved rows read back are garbage now (with 10,000 positions, 19 MB of free memory handed back)
            memory.trim()

    # --- one call --------------------------------------------------------------------------------------

    def _call(self, name: str, sentinel: Any, body: Callable[[], T], *, needs_connection: bool = True) -> T | Any:
        """Run one module call: reset last_error, apply faults, let the server catch up, answer the
        sentinel with last_error set on failure, and save what changed."""
        with self._lock:
            self._last_error = codes.SUCCESS
            try:
                if needs_connection and not self._connected:
                    raise CallError(codes.NO_IPC)
                self._apply_fault(name)
                self._world.loop.catch_up()
                return body()
            except CallError as exc:
                self._last_error = exc.error
                return sentinel if exc.result is CallError.NO_RESULT else exc.result
            finally:
                self._persist()

    def _apply_fault(self, name: str) -> None:
        fault = self._faults.on_call(name)
        if fault is None:
            return
        if fault.block_seconds:
            block_holding_gil(fault.block_seconds)
        if fault.drop_connection:
            self._lose_connection("random fault")
            raise CallError(codes.NO_IPC)
        if fault.error is not None:
            if name == "initialize":
                self._connected = False
            raise CallError(fault.error)

    def _lose_connection(self, why: str) -> None:
        if self._connected:
            logger.info("simulated terminal connection lost (%s)", why)
        self._connected = False
        self._books.clear()

    @property
    def _trade_allowed(self) -> bool:
        """Algo trading as the terminal's toolbar shows it."""
        return (
            self._world.algo_trading
            and not self._faults.algo_disabled
            and not self._faults.active(FaultKind.ALGO_TRADING_OFF)
        )

    def _frozen_tick(self, symbol: str) -> Any:
        """While the broker link is down the terminal keeps showing the last tick it had."""
        tick = self._frozen_ticks.get(symbol)
        if tick is None:
            tick = self._frozen_ticks[symbol] = self._world.views.tick(symbol)
        return tick

    # --- persistence -----------------------------------------------------------------------------------

    def _persist(self, *, settings: bool = False, market: bool = False, everything: bool = False) -> None:
        """Save what changed in one transaction; the clock and market ride along now and then."""
        world = self._world
        changes = world.broker.take_changes()
        if self._store is None:
            return
        wall = time.monotonic()
        meta: dict[str, Any] = {}
        if changes or settings or market or everything or wall - self._clock_saved_at >= _CLOCK_SAVE_EVERY:
            meta["clock"] = world.clock.state()
            self._clock_saved_at = wall
        if changes.account or everything:
            meta["account"] = world.broker.account.to_row()
        if changes.counters or everything:
            broker = world.broker
            meta["counters"] = {"order": broker.next_order, "deal": broker.next_deal, "request": broker.next_request}
        if settings or everything:
            meta.update(world.settings_meta())
        if market or everything or (changes and wall - self._market_saved_at >= _MARKET_SAVE_EVERY):
            meta["market"] = world.market.snapshot()
            self._market_saved_at = wall
        if changes or meta:
            try:
                self._store.save(changes, meta)
            except sqlite3.Error:  # the broker runs on in memory; a module call never raises for it
                logger.exception("the simulated broker could not save its state to %s", self._store.path)

    def close(self) -> None:
        """Save everything and release the database (the broker's state stays on disk)."""
        with self._lock:
            if self._store is not None:
                self._persist(everything=True)
                self._store.close()
                self._store = None
