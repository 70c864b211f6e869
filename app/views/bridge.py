"""The one object that turns engine events into Qt signals; every view connects here, never to the engine.

The engine publishes on the event loop thread, which under qasync is the GUI thread, so each event is
emitted directly. Payloads are the engine's plain dicts, passed as Python objects (no Qt conversion).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.engine.events import EngineEvent, EventKind

logger = logging.getLogger(__name__)


class EngineBridge(QObject):
    """Subscribes to an engine on construction; ``detach()`` (or deletion of the engine) ends it."""

    #: every event, for the event log and the notifications
    event = Signal(object)  # type: ignore[assignment]  # a signal named like QObject.event(); public API
    lifecycle = Signal(object)  # payload: {state, previous, reason, attempt, attempts, retry_in, epoch}
    trade_registered = Signal(object)
    trade_updated = Signal(object)  # list of {ticket, price, profit, profit_r}
    trade_changed = Signal(object)
    trade_unregistered = Signal(object)
    trade_closed = Signal(object)
    action = Signal(object)
    state_changed = Signal(object)
    rail = Signal(object)
    database_recovered = Signal(object)
    cycle = Signal(object)
    paused = Signal(bool)
    database = Signal(object)  # {degraded, reason}
    terminal_stall = Signal(object)  # {stalled, seconds, call}

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._by_kind: dict[EventKind, Callable[[EngineEvent], None]] = {
            EventKind.LIFECYCLE: lambda e: self.lifecycle.emit(e.payload),
            EventKind.TRADE_REGISTERED: lambda e: self.trade_registered.emit(e.payload),
            EventKind.TRADE_UPDATED: lambda e: self.trade_updated.emit(list(e.payload.get("rows", ()))),
            EventKind.TRADE_CHANGED: lambda e: self.trade_changed.emit(e.payload),
            EventKind.TRADE_UNREGISTERED: lambda e: self.trade_unregistered.emit(e.payload),
            EventKind.TRADE_CLOSED: lambda e: self.trade_closed.emit(e.payload),
            EventKind.ACTION: lambda e: self.action.emit(e.payload),
            EventKind.STATE_CHANGED: lambda e: self.state_changed.emit(e.payload),
            EventKind.RAIL: lambda e: self.rail.emit(e.payload),
            EventKind.DATABASE_RECOVERED: lambda e: self.database_recovered.emit(e.payload),
            EventKind.CYCLE: lambda e: self.cycle.emit(e.payload),
            EventKind.PAUSED: lambda e: self.paused.emit(bool(e.payload.get("paused"))),
            EventKind.DATABASE: lambda e: self.database.emit(e.payload),
            EventKind.TERMINAL_STALL: lambda e: self.terminal_stall.emit(e.payload),
        }
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._deliver)

    @property
    def engine(self) -> Any:
        """The engine, for views that read its state or call its commands (never to subscribe)."""
        return self._engine

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _deliver(self, event: EngineEvent) -> None:
        emit = self._by_kind.get(event.kind)
        if emit is None:
            logger.debug("no signal for event kind %s", event.kind)
            return
        emit(event)
        self.event.emit(event)
