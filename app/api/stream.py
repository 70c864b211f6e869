"""The ``GET /events`` stream: persisted engine events in ``seq`` order, none lost and none twice.

The stream subscribes first, then replays from the database everything after the client's last id, then
follows live events. Whenever the live feed could have skipped something (a gap in ``seq``, or the
client reading slower than events arrive so the buffer filled up) it catches up from the database again.
Live-only kinds (prices, cycle timings) carry no ``seq`` and are not streamed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from app.api import views
from app.api.schemas import EngineEvent as EventData
from app.engine.events import EngineEvent
from app.engine.model import StoredEvent
from app.errors import DtmsError

logger = logging.getLogger(__name__)


class EventJournal(Protocol):
    async def events_since(self, seq: int, limit: int = 500) -> list[StoredEvent]: ...
    async def last_event_seq(self) -> int: ...


class EventSource(Protocol):
    @property
    def repository(self) -> Any: ...
    def subscribe(self, subscriber: Any) -> Any: ...


class _Feed:
    """The live side: a bounded buffer that remembers it overflowed instead of blocking the engine."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[EngineEvent] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def __call__(self, event: EngineEvent) -> None:
        if event.seq is None:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.overflowed = False


async def _last_seq(journal: EventJournal) -> int:
    try:
        return await journal.last_event_seq()
    except DtmsError as error:
        logger.warning("the newest event cannot be read from the database: %s", error)
        return 0


async def event_stream(
    source: EventSource, after: int | None, closing: asyncio.Event, *, buffer: int = 1000, page: int = 500
) -> AsyncIterator[EventData]:
    """Events with ``seq > after`` (``after`` None: from now on) until ``closing`` is set or the client leaves."""
    journal: EventJournal = source.repository
    feed = _Feed(buffer)
    unsubscribe = source.subscribe(feed)
    closed = asyncio.ensure_future(closing.wait())
    getter: asyncio.Future[EngineEvent] | None = None
    try:
        last = after if after is not None else await _last_seq(journal)

        async def catch_up() -> AsyncIterator[EventData]:
            nonlocal last
            while True:
                try:
                    batch = await journal.events_since(last, limit=page)
                except DtmsError as error:  # a degraded database: the stream goes on with live events
                    logger.warning("events cannot be replayed from the database: %s", error)
                    return
                for stored in batch:
                    last = stored.seq
                    yield views.event_data(stored)
                if len(batch) < page:
                    return

        async for item in catch_up():
            yield item
        while not closing.is_set():
            if feed.overflowed:
                feed.drain()
                async for item in catch_up():
                    yield item
                continue
            getter = asyncio.ensure_future(feed.queue.get())
            await asyncio.wait((getter, closed), return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break
            event = getter.result()
            assert event.seq is not None
            if event.seq <= last:
                continue
            if event.seq != last + 1:
                async for item in catch_up():  # something between is in the database
                    yield item
                if event.seq <= last:
                    continue  # the catch-up gave it; else the database could not, and the live one is sent
            last = event.seq
            yield views.event_data(event)
    finally:
        unsubscribe()
        for waiter in (getter, closed):
            if waiter is not None and not waiter.done():
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
