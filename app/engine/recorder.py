"""Commit first, then tell: every state change and event is in the database before anyone hears of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from app.engine.events import EngineEvent, EventBus, EventKind
from app.engine.model import ActionRecord, StoredEvent, Trade, Transition


class Journal(Protocol):
    """The part of the repository the recorder writes to."""

    async def save_trade_with_records(
        self, trade: Trade, actions: Iterable[ActionRecord] = (), transitions: Iterable[Transition] = ()
    ) -> None: ...
    async def save_trades(self, trades: Iterable[Trade]) -> None: ...
    async def insert_trade_if_absent(self, trade: Trade) -> bool: ...
    async def load_trade(self, ticket: int) -> Trade | None: ...
    async def save_trades_with_events(
        self, trades: Sequence[Trade], events: Sequence[tuple[str, dict[str, Any], float]]
    ) -> list[StoredEvent]: ...
    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent: ...


class Recorder:
    def __init__(self, journal: Journal, bus: EventBus, now: Callable[[], float]) -> None:
        self._journal = journal
        self._bus = bus
        self._now = now

    async def commit(
        self,
        trade: Trade | None = None,
        *,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[EventKind, dict[str, Any]]] = (),
    ) -> list[EngineEvent]:
        """Save the trade with its journal in one transaction, then persist and publish each event."""
        if trade is not None:
            await self._journal.save_trade_with_records(trade, tuple(actions), tuple(transitions))
        return [await self.event(kind, payload) for kind, payload in events]

    async def commit_many(self, trades: Sequence[Trade], events: Iterable[tuple[EventKind, dict[str, Any]]] = (),
                          *, publish: bool = True) -> list[EngineEvent]:
        """Save many trades and their events in one transaction (a cycle's worth), then publish the events
        (``publish=False``: the caller publishes them with ``publish`` once its own state is in step)."""
        at = self._now()
        events = list(events)
        stored = await self._journal.save_trades_with_events(trades, [(k.value, p, at) for k, p in events])
        committed = [EngineEvent(kind=kind, payload=payload, at=at, wall_at=row.wall_at, seq=row.seq)
                     for (kind, payload), row in zip(events, stored)]
        if publish:
            self.publish(committed)
        return committed

    def publish(self, events: Iterable[EngineEvent]) -> None:
        """Tell listeners of events already committed."""
        for event in events:
            self._bus.publish(event)

    async def load(self, ticket: int) -> Trade | None:
        return await self._journal.load_trade(ticket)

    async def insert(self, trade: Trade) -> bool:
        """Insert a new trade row; False if the ticket already has one."""
        return await self._journal.insert_trade_if_absent(trade)

    async def save_many(self, trades: Iterable[Trade]) -> None:
        trades = list(trades)
        if trades:
            await self._journal.save_trades(trades)

    async def event(self, kind: EventKind, payload: dict[str, Any]) -> EngineEvent:
        at = self._now()
        stored = await self._journal.append_event(kind.value, payload, at)
        event = EngineEvent(kind=kind, payload=payload, at=at, wall_at=stored.wall_at, seq=stored.seq)
        self._bus.publish(event)
        return event

    def live(self, kind: EventKind, payload: dict[str, Any]) -> None:
        """A live update that is shown but not persisted (prices, cycle timings)."""
        self._bus.publish(EngineEvent(kind=kind, payload=payload, at=self._now(), wall_at=time.time()))
