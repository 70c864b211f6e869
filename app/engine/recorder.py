"""Commit first, then tell: every state change and event is in the database before anyone hears of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
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
    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent: ...


_TRADE_FIELDS = tuple(f.name for f in fields(Trade))


@dataclass(slots=True)
class Staged:
    """A decision's working copy of a live trade. The decision changes ``work``; the live trade (what views, the
    endpoint and the next cycle read) takes those changes only once they are committed (``Recorder.commit(into=)``),
    and keeps what was changed meanwhile elsewhere (paused, unregistered) where the decision left a field alone."""

    live: Trade
    base: Trade
    work: Trade

    def merged(self) -> Trade:
        """The live trade with the fields the decision changed since the last commit."""
        changed = {name: getattr(self.work, name) for name in _TRADE_FIELDS
                   if getattr(self.work, name) != getattr(self.base, name)}
        return replace(self.live, **changed)

    def committed(self, row: Trade) -> None:
        for trade in (self.live, self.work):
            for name in _TRADE_FIELDS:
                setattr(trade, name, getattr(row, name))
        self.base = replace(row)


def staged(trade: Trade) -> Staged:
    return Staged(live=trade, base=replace(trade), work=replace(trade))


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
        into: Staged | None = None,
    ) -> list[EngineEvent]:
        """Save the trade with its journal in one transaction, then persist and publish each event.

        ``into``: the staging ``trade`` is the work of; what the live trade shows changes right after the
        transaction committed (before the events), and stays as it was when the commit fails."""
        if trade is not None:
            row = into.merged() if into is not None else trade
            await self._journal.save_trade_with_records(row, tuple(actions), tuple(transitions))
            if into is not None:
                into.committed(row)
        return [await self.event(kind, payload) for kind, payload in events]

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
