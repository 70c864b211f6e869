"""Commit first, then tell: every state change and event is in the database before anyone hears of it.

Changes that are not decisions (the best price for trailing, a deep check's score and times) are only
marked with ``touch``; ``flush`` writes every marked trade in one transaction, at most once per
``interval`` wall seconds, so a hundred trades cost one small transaction every few seconds instead of one
per trade and price. A commit writes the whole trade, so it also settles the trade's marked changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from app.engine.events import EngineEvent, EventBus, EventKind
from app.engine.model import ActionRecord, StoredEvent, Trade, Transition


class Journal(Protocol):
    """The part of the repository the recorder writes to."""

    async def commit_records(
        self, trade: Trade, actions: Iterable[ActionRecord] = (), transitions: Iterable[Transition] = (),
        events: Iterable[tuple[str, dict[str, Any], float]] = (),
    ) -> tuple[list[ActionRecord], list[Transition], list[StoredEvent]]: ...
    async def save_trades(self, trades: Iterable[Trade]) -> None: ...
    async def insert_trade_with_events(
        self, trade: Trade, events: Iterable[tuple[str, dict[str, Any], float]]
    ) -> tuple[bool, list[StoredEvent]]: ...
    async def load_trade(self, ticket: int) -> Trade | None: ...
    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent: ...


class Recorder:
    def __init__(self, journal: Journal, bus: EventBus, now: Callable[[], float],
                 interval: Callable[[], float] = lambda: 0.0, wall: Callable[[], float] = time.monotonic) -> None:
        self._journal = journal
        self._bus = bus
        self._now = now
        self._interval = interval
        self._wall = wall
        self._dirty: dict[int, Trade] = {}
        self._flushed_at: float | None = None
        self.flushes = 0  # transactions written by ``flush``

    async def commit(
        self,
        trade: Trade | None = None,
        *,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[EventKind, dict[str, Any]]] = (),
    ) -> list[EngineEvent]:
        """Save the trade with its journal and its events in one transaction, then publish the events."""
        if trade is None:
            return [await self.event(kind, payload) for kind, payload in events]
        at = self._now()
        events = list(events)
        _, _, stored = await self._journal.commit_records(trade, tuple(actions), tuple(transitions),
                                                          [(kind.value, payload, at) for kind, payload in events])
        self._dirty.pop(trade.ticket, None)
        published = []
        for (kind, payload), saved in zip(events, stored, strict=True):
            event = EngineEvent(kind=kind, payload=payload, at=at, wall_at=saved.wall_at, seq=saved.seq)
            self._bus.publish(event)
            published.append(event)
        return published

    async def load(self, ticket: int) -> Trade | None:
        return await self._journal.load_trade(ticket)

    async def insert(self, trade: Trade, events: Iterable[tuple[EventKind, dict[str, Any]]] = ()
                     ) -> tuple[bool, list[EngineEvent]]:
        """Insert a new trade row with its events in one transaction; False (and nothing stored) if the ticket
        already has one. The events are returned to be published once the caller has taken the trade in."""
        at = self._now()
        events = list(events)
        inserted, stored = await self._journal.insert_trade_with_events(
            trade, [(kind.value, payload, at) for kind, payload in events])
        return inserted, [EngineEvent(kind=kind, payload=payload, at=at, wall_at=saved.wall_at, seq=saved.seq)
                          for (kind, payload), saved in zip(events, stored)]

    def publish(self, events: Iterable[EngineEvent]) -> None:
        """Tell events already committed (see ``insert``)."""
        for event in events:
            self._bus.publish(event)

    def touch(self, trade: Trade) -> None:
        """The trade changed in a way that is no decision: written by the next due ``flush``."""
        self._dirty[trade.ticket] = trade

    @property
    def pending(self) -> int:
        """Trades with changes not yet written."""
        return len(self._dirty)

    async def flush(self, *, force: bool = False) -> int:
        """Write the marked trades in one transaction if ``interval`` has passed since the last write (or
        ``force``); returns how many were written."""
        if not self._dirty:
            return 0
        now = self._wall()
        if not force and self._flushed_at is not None and now - self._flushed_at < self._interval():
            return 0
        trades = list(self._dirty.values())
        await self._journal.save_trades(trades)
        for trade in trades:
            if self._dirty.get(trade.ticket) is trade:
                del self._dirty[trade.ticket]
        self._flushed_at = now
        self.flushes += 1
        return len(trades)

    async def event(self, kind: EventKind, payload: dict[str, Any]) -> EngineEvent:
        event = await self.stored_event(kind, payload)
        self._bus.publish(event)
        return event

    async def stored_event(self, kind: EventKind, payload: dict[str, Any]) -> EngineEvent:
        """Store an event without telling it yet (``publish`` does, once the caller is ready)."""
        at = self._now()
        stored = await self._journal.append_event(kind.value, payload, at)
        return EngineEvent(kind=kind, payload=payload, at=at, wall_at=stored.wall_at, seq=stored.seq)

    def live(self, kind: EventKind, payload: dict[str, Any]) -> None:
        """A live update that is shown but not persisted (prices, cycle timings)."""
        self._bus.publish(EngineEvent(kind=kind, payload=payload, at=self._now(), wall_at=time.time()))
