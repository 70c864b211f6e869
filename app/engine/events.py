"""The engine's events: typed, plain, delivered to subscribers (the Qt bridge, the SSE stream, the tray).

The engine never calls a view. Subscribers are plain callables; a subscriber that raises is logged and
keeps its subscription, so a faulty view cannot stop the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class EventKind(StrEnum):
    LIFECYCLE = "lifecycle"  # {state, previous, reason, attempt, attempts, epoch, retry_in}
    TRADE_REGISTERED = "trade_registered"  # {ticket, symbol, direction, source, ...}
    TRADE_UPDATED = "trade_updated"  # {ticket, ...changed fields}  (prices; not persisted)
    TRADE_CHANGED = "trade_changed"  # {ticket, what, detail}  (SL/volume/TP changed outside DTMS)
    TRADE_UNREGISTERED = "trade_unregistered"  # {ticket}
    TRADE_CLOSED = "trade_closed"  # {ticket, reason, price, profit}
    ACTION = "action"  # {ticket, kind, outcome, retcode, comment, detail}
    STATE_CHANGED = "state_changed"  # {ticket, from, to, reason, score}
    RAIL = "rail"  # {rail, tripped, detail}
    DATABASE_RECOVERED = "database_recovered"  # {moved_to, rebuilt}
    CYCLE = "cycle"  # {duration_ms, trades, calls}  (not persisted)
    PAUSED = "paused"  # {paused}
    DATABASE = "database"  # {degraded, reason}  (the database failed while running, or is trusted again)
    TERMINAL_STALL = "terminal_stall"  # {stalled, seconds, call}  (a terminal call unanswered past the threshold)
    SYMBOL_PROBLEM = "symbol_problem"  # {symbol, failing, reason}  (one symbol's prices or bars fail)


#: Kinds that are only live updates: shown, never persisted nor streamed with an id.
TRANSIENT_KINDS = frozenset({EventKind.TRADE_UPDATED, EventKind.CYCLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineEvent:
    kind: EventKind
    payload: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0  # terminal time
    wall_at: float = field(default_factory=time.time)
    seq: int | None = None  # the persisted sequence number (None for transient kinds)


Subscriber = Callable[[EngineEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: EngineEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                logger.exception("event subscriber %r failed on %s", subscriber, event.kind)
