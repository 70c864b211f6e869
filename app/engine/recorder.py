"""Commit first, then tell: every state change and event is in the database before anyone hears of it.

Two kinds of writes:
- ownership (a registration, a claim, a release) is strict: stored with its event in one transaction, or
  refused with ``DatabaseDegraded`` and nothing changed in memory;
- what protection records (SL moves, closes, state changes, events) is never lost for want of a database:
  once the database has failed (damaged, disk full, read-only) it goes to the side journal beside the file,
  replayed into the database at the next start, and the engine shows the database as degraded.

Changes that are not decisions (the best price for trailing, a deep check's score and times) are only
marked with ``touch``; ``flush`` writes every marked trade in one transaction, at most once per
``interval`` wall seconds, so a hundred trades cost one small transaction every few minutes instead of one
per trade and price. A commit writes the whole trade, so it also settles the trade's marked changes.
Figures only the window shows (``touch(figures=True)``: a deep check's score and check times, recomputed by
the next check after a restart) do not make a flush due: they go with the trade's next write, or at a stop.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Protocol, cast

from app.engine.events import EngineEvent, EventBus, EventKind
from app.engine.model import ActionRecord, BatchItem, StoredEvent, Trade, Transition
from app.errors import DatabaseDegraded, DtmsError

logger = logging.getLogger(__name__)


class Journal(Protocol):
    """The part of the repository the recorder writes to."""

    side: Any  # where the aside records go (for the log)

    async def commit_records(
        self,
        trade: Trade,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[str, dict[str, Any], float]] = (),
        *,
        changed: frozenset[str] | None = None,
    ) -> tuple[list[ActionRecord], list[Transition], list[StoredEvent]]: ...
    async def commit_batch(
        self, items: Sequence[BatchItem]
    ) -> list[tuple[list[ActionRecord], list[Transition], list[StoredEvent]]]: ...
    async def save_trades(self, trades: Iterable[Trade]) -> None: ...
    async def load_trade(self, ticket: int) -> Trade | None: ...
    async def save_trades_with_events(
        self, trades: Sequence[Trade], events: Sequence[tuple[str, dict[str, Any], float]]
    ) -> list[StoredEvent]: ...
    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent: ...
    async def register_trade(
        self, trade: Trade, kind: str, payload: dict[str, Any], at: float
    ) -> tuple[bool, StoredEvent]: ...
    async def save_trade_with_event(
        self, trade: Trade, kind: str, payload: dict[str, Any], at: float
    ) -> StoredEvent: ...
    def aside_trade(self, trade: Trade) -> None: ...
    def aside_records(
        self, trade: Trade, actions: tuple[ActionRecord, ...], transitions: tuple[Transition, ...]
    ) -> None: ...
    def aside_event(self, kind: str, payload: dict[str, Any], at: float, wall_at: float) -> None: ...
    def aside_degraded(self, reason: str) -> None: ...


def _degrading(error: BaseException) -> str | None:
    return getattr(error, "degrading", None) if isinstance(error, DtmsError) else None


#: trades a due flush writes in one cycle's transaction at most (the rest in the next cycles)
FLUSH_MOST = 1000
_TRADE_FIELDS = tuple(f.name for f in fields(Trade))
_TRADE_VALUES = attrgetter(*_TRADE_FIELDS)


def _field_copier() -> Callable[[Trade, Trade], Trade]:
    """A function setting every field of its first trade to its second's, one attribute store per field, as
    ``dataclasses`` writes ``__init__``: a loop of ``setattr`` cost eight times as much, and a mass close
    copies a thousand trades in one cycle."""
    stores = "".join(f"    target.{name} = source.{name}\n" for name in _TRADE_FIELDS)
    namespace: dict[str, Any] = {}
    exec(f"def copy_fields(target, source):\n{stores}    return target\n", namespace)  # noqa: S102 (field names)
    return cast("Callable[[Trade, Trade], Trade]", namespace["copy_fields"])


_copy_fields = _field_copier()


def clone(trade: Trade) -> Trade:
    """A shallow copy, as ``dataclasses.replace(trade)`` makes (without running ``__init__`` again)."""
    return _copy_fields(Trade.__new__(Trade), trade)


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
        row = clone(self.live)
        for name, now, was in zip(_TRADE_FIELDS, _TRADE_VALUES(self.work), _TRADE_VALUES(self.base), strict=True):
            if now != was:
                setattr(row, name, now)
        return row

    def changed(self) -> frozenset[str]:
        """The fields the decision changed since the last commit."""
        return frozenset(
            name
            for name, now, was in zip(_TRADE_FIELDS, _TRADE_VALUES(self.work), _TRADE_VALUES(self.base), strict=True)
            if now != was
        )

    def committed(self, row: Trade) -> None:
        _copy_fields(self.live, row)
        _copy_fields(self.work, row)
        self.base = clone(row)


def staged(trade: Trade) -> Staged:
    return Staged(live=trade, base=clone(trade), work=clone(trade))


@dataclass(slots=True)
class _Entry:
    into: Staged
    actions: tuple[ActionRecord, ...]
    transitions: tuple[Transition, ...]
    events: tuple[tuple[EventKind, dict[str, Any]], ...]
    at: float


@dataclass(slots=True)
class CommitBatch:
    """Decisions staged to be committed in one transaction (``Recorder.commit_batch``); until then the live trades
    show none of them and nothing is told."""

    at: Callable[[], float]
    entries: list[_Entry] = field(default_factory=list)
    tickets: set[int] = field(default_factory=set)

    def add(
        self,
        into: Staged,
        *,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[EventKind, dict[str, Any]]] = (),
    ) -> None:
        """Stage the decision ``into`` holds (its ``work``), with its journal entries and events."""
        if into.live.ticket in self:
            raise ValueError(f"ticket {into.live.ticket} already has a decision in this batch")
        entry = _Entry(
            into=into, actions=tuple(actions), transitions=tuple(transitions), events=tuple(events), at=self.at()
        )
        self.entries.append(entry)
        self.tickets.add(into.live.ticket)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, ticket: object) -> bool:
        return ticket in self.tickets

    def trades(self) -> list[Trade]:
        """The live trades with a decision staged."""
        return [entry.into.live for entry in self.entries]


class Recorder:
    def __init__(
        self,
        journal: Journal,
        bus: EventBus,
        now: Callable[[], float],
        interval: Callable[[], float] = lambda: 0.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._journal = journal
        self._bus = bus
        self._now = now
        self._interval = interval
        self._wall = wall
        self._dirty: dict[int, Trade] = {}
        self._figures: dict[int, Trade] = {}  # changed only in what the window shows
        self._flushed_at: float | None = None
        self._draining = False  # a due flush left trades for the next cycles
        self.flushes = 0  # transactions written by ``flush``
        #: why the database is not written any more ("" while it is sound)
        self.problem = ""
        #: called once when the database fails (the engine shows it and snapshots its trades aside)
        self.on_degraded: Callable[[str], None] | None = None
        #: called with each trade a decision changed, once that is committed (or journaled aside)
        self.on_commit: list[Callable[[Trade], None]] = []

    # --- degraded mode ------------------------------------------------------------------------------------

    def degrade(self, reason: str) -> bool:
        """From now on nothing is written to the database; False if it already was degraded."""
        if self.problem:
            return False
        self.problem = reason
        logger.error(
            "database degraded: %s; protection goes on, journaled to %s",
            reason,
            getattr(self._journal.side, "path", "the side journal"),
        )
        self._aside(lambda: self._journal.aside_degraded(reason))
        if self.on_degraded is not None:
            self.on_degraded(reason)
        return True

    def _aside(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError:
            logger.exception("the side journal could not be written either")

    def aside_trade(self, trade: Trade) -> None:
        self._aside(lambda: self._journal.aside_trade(trade))

    def _lenient(self, error: BaseException) -> None:
        """A failed write of protection's records: raise unless it means the database is gone."""
        reason = _degrading(error)
        if reason is None:
            raise error
        self.degrade(reason)

    def _strict(self, error: BaseException) -> DatabaseDegraded:
        reason = _degrading(error)
        if reason is not None:
            self.degrade(reason)
        return DatabaseDegraded(f"the database could not store it: {reason or error}")

    # --- protection's records (never lost) --------------------------------------------------------------

    async def commit(
        self,
        trade: Trade | None = None,
        *,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[EventKind, dict[str, Any]]] = (),
        into: Staged | None = None,
    ) -> list[EngineEvent]:
        """Save the trade with its journal and its events in one transaction, then publish the events.

        ``into``: the staging ``trade`` is the work of; what the live trade shows changes right after the
        transaction committed (before the events), and stays as it was when the commit fails. Once the database
        has failed, the records and events go to the side journal instead (protection is never held back)."""
        events = list(events)
        if trade is None:
            return [await self.event(kind, payload) for kind, payload in events]
        at = self._now()
        actions, transitions = tuple(actions), tuple(transitions)
        row = into.merged() if into is not None else trade
        stored: list[StoredEvent] | None = None
        if not self.problem:
            try:
                _, _, stored = await self._journal.commit_records(
                    row,
                    actions,
                    transitions,
                    [(kind.value, payload, at) for kind, payload in events],
                    changed=into.changed() if into is not None else None,
                )
            except DtmsError as error:
                self._lenient(error)  # raises unless the database is gone (then the records go aside)
        if stored is None:
            self._aside_records(row, actions, transitions)
        self._settled(trade.ticket)
        if into is not None:
            into.committed(row)
        for listener in self.on_commit:
            listener(row)
        if stored is None:
            return [self._aside_event(kind, payload, at) for kind, payload in events]
        published = []
        for (kind, payload), saved in zip(events, stored, strict=True):
            event = EngineEvent(kind=kind, payload=payload, at=at, wall_at=saved.wall_at, seq=saved.seq)
            self._bus.publish(event)
            published.append(event)
        return published

    def batch(self) -> CommitBatch:
        """Decisions to be committed together by ``commit_batch`` (a deep check pass's changes of state)."""
        return CommitBatch(at=self._now)

    async def commit_batch(self, batch: CommitBatch) -> list[EngineEvent]:
        """Commit every staged decision of ``batch`` in one transaction, then let each live trade take its
        decision, then publish the events (in the order they were staged). When the transaction fails, every live
        trade stays as it was and nothing is told (the error is raised, as ``commit``'s); once the database has
        failed, the records and events go to the side journal instead."""
        entries, batch.entries, batch.tickets = batch.entries, [], set()
        if not entries:
            return []
        rows = [entry.into.merged() for entry in entries]
        stored: list[list[StoredEvent]] | None = None
        if not self.problem:
            items = [
                BatchItem(
                    trade=row,
                    actions=entry.actions,
                    transitions=entry.transitions,
                    events=tuple((kind.value, payload, entry.at) for kind, payload in entry.events),
                    changed=entry.into.changed(),
                )
                for entry, row in zip(entries, rows, strict=True)
            ]
            try:
                stored = [events for _, _, events in await self._journal.commit_batch(items)]
            except DtmsError as error:
                self._lenient(error)  # raises unless the database is gone (then the records go aside)
        if stored is None:
            for entry, row in zip(entries, rows, strict=True):
                self._aside_records(row, entry.actions, entry.transitions)
        for entry, row in zip(entries, rows, strict=True):
            self._settled(row.ticket)
            entry.into.committed(row)
            for listener in self.on_commit:
                listener(row)
        published = []
        for index, entry in enumerate(entries):
            if stored is None:
                published += [self._aside_event(kind, payload, entry.at) for kind, payload in entry.events]
                continue
            for (kind, payload), saved in zip(entry.events, stored[index], strict=True):
                event = EngineEvent(kind=kind, payload=payload, at=entry.at, wall_at=saved.wall_at, seq=saved.seq)
                self._bus.publish(event)
                published.append(event)
        return published

    def _aside_records(
        self, trade: Trade, actions: tuple[ActionRecord, ...], transitions: tuple[Transition, ...]
    ) -> None:
        self._aside(lambda: self._journal.aside_records(trade, actions, transitions))

    async def save_many(self, trades: Iterable[Trade]) -> None:
        trades = list(trades)
        if not trades:
            return
        if not self.problem:
            try:
                await self._journal.save_trades(trades)
                return
            except DtmsError as error:
                self._lenient(error)
        for trade in trades:
            self.aside_trade(trade)

    async def event(self, kind: EventKind, payload: dict[str, Any]) -> EngineEvent:
        at = self._now()
        if not self.problem:
            try:
                stored = await self._journal.append_event(kind.value, payload, at)
            except DtmsError as error:
                self._lenient(error)
            else:
                event = EngineEvent(kind=kind, payload=payload, at=at, wall_at=stored.wall_at, seq=stored.seq)
                self._bus.publish(event)
                return event
        return self._aside_event(kind, payload, at)

    def _aside_event(self, kind: EventKind, payload: dict[str, Any], at: float) -> EngineEvent:
        """With the database gone: the event goes to the side journal, then is told (without a sequence id)."""
        wall_at = time.time()
        self._aside(lambda: self._journal.aside_event(kind.value, payload, at, wall_at))
        event = EngineEvent(kind=kind, payload=payload, at=at, wall_at=wall_at)
        self._bus.publish(event)
        return event

    # --- ownership (stored, or refused) -------------------------------------------------------------------

    def require_sound(self) -> None:
        if self.problem:
            raise DatabaseDegraded(
                f"the database is degraded ({self.problem}); nothing new is accepted until DTMS Desk is restarted"
            )

    async def register(self, trade: Trade, payload: dict[str, Any]) -> tuple[bool, EngineEvent]:
        """Store a new trade with its trade_registered event; the event is returned unpublished, to be
        published once the trade is in memory."""
        self.require_sound()
        at = self._now()
        try:
            inserted, stored = await self._journal.register_trade(trade, EventKind.TRADE_REGISTERED.value, payload, at)
        except DtmsError as error:
            raise self._strict(error) from error
        return inserted, EngineEvent(
            kind=EventKind.TRADE_REGISTERED, payload=payload, at=at, wall_at=stored.wall_at, seq=stored.seq
        )

    async def change_owner(self, trade: Trade, kind: EventKind, payload: dict[str, Any]) -> EngineEvent:
        """Store a claim or release with its event (unpublished), or raise ``DatabaseDegraded``."""
        self.require_sound()
        at = self._now()
        try:
            stored = await self._journal.save_trade_with_event(trade, kind.value, payload, at)
        except DtmsError as error:
            raise self._strict(error) from error
        return EngineEvent(kind=kind, payload=payload, at=at, wall_at=stored.wall_at, seq=stored.seq)

    def publish(self, event: EngineEvent) -> None:
        self._bus.publish(event)

    async def commit_many(
        self, trades: Sequence[Trade], events: Iterable[tuple[EventKind, dict[str, Any]]] = (), *, publish: bool = True
    ) -> list[EngineEvent]:
        """Save many trades and their events in one transaction (a cycle's worth), then publish the events
        (``publish=False``: the caller publishes them with ``publish_all`` once its own state is in step). With
        the database gone they go to the side journal, as ``commit``'s do."""
        at = self._now()
        events = list(events)
        stored: list[StoredEvent] | None = None
        if not self.problem:
            try:
                stored = await self._journal.save_trades_with_events(trades, [(k.value, p, at) for k, p in events])
            except DtmsError as error:
                self._lenient(error)
        for trade in trades:
            self._settled(trade.ticket)
            for listener in self.on_commit:
                listener(trade)
        if stored is None:
            for trade in trades:
                self.aside_trade(trade)
            return [self._aside_event(kind, payload, at) for kind, payload in events]
        committed = [
            EngineEvent(kind=kind, payload=payload, at=at, wall_at=row.wall_at, seq=row.seq)
            for (kind, payload), row in zip(events, stored, strict=True)
        ]
        if publish:
            self.publish_all(committed)
        return committed

    def publish_all(self, events: Iterable[EngineEvent]) -> None:
        """Tell listeners of events already committed."""
        for event in events:
            self._bus.publish(event)

    async def load(self, ticket: int) -> Trade | None:
        return await self._journal.load_trade(ticket)

    def touch(self, trade: Trade, *, figures: bool = False) -> None:
        """The trade changed in a way that is no decision: written by the next due ``flush``. ``figures``: only
        in what the window shows; written with the trade's next write or by a forced flush."""
        if figures:
            if trade.ticket not in self._dirty:
                self._figures[trade.ticket] = trade
        else:
            self._dirty[trade.ticket] = trade
            self._figures.pop(trade.ticket, None)

    def _settled(self, ticket: int) -> None:
        self._dirty.pop(ticket, None)
        self._figures.pop(ticket, None)

    @property
    def pending(self) -> int:
        """Trades with changes not yet written."""
        return len(self._dirty) + len(self._figures)

    async def flush(self, *, force: bool = False) -> int:
        """Write the marked trades in one transaction if ``interval`` has passed since the last write (or
        ``force``, which also writes the trades changed only in their figures); returns how many were written.

        Once due, a call writes ``FLUSH_MOST`` trades at most, the longest waiting first, and the next calls
        (one a cycle) go on until none waits: at 10,000 trades one transaction of every trade held a cycle for a
        quarter of a second. ``force`` (a stop) writes them all."""
        if not self._dirty and not (force and self._figures):
            return 0
        now = self._wall()
        due = self._draining or self._flushed_at is None or now - self._flushed_at >= self._interval()
        if not (force or due):
            return 0
        marked = self._dirty | self._figures if force else self._dirty
        trades = list(marked.values() if force else itertools.islice(marked.values(), FLUSH_MOST))
        await self.save_many(trades)
        for trade in trades:
            for waiting in (self._dirty, self._figures):
                if waiting.get(trade.ticket) is trade:
                    del waiting[trade.ticket]
        self._draining = bool(self._dirty) and not force
        if not self._draining:
            self._flushed_at = now
        self.flushes += 1
        return len(trades)

    def live(self, kind: EventKind, payload: dict[str, Any]) -> None:
        """A live update that is shown but not persisted (prices, cycle timings)."""
        self._bus.publish(EngineEvent(kind=kind, payload=payload, at=self._now(), wall_at=time.time()))
