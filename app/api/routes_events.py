"""``GET /events``: the engine's persisted events as server-sent events, ``id`` = the event's ``seq``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.api.deps import Facade, errors
from app.api.stream import event_stream

router = APIRouter(tags=["events"])

#: Milliseconds a disconnected EventSource waits before it reconnects (sending Last-Event-ID).
RECONNECT_MS = 2000


@router.get("/events", response_class=EventSourceResponse, responses=errors(422))
async def events(
    request: Request,
    facade: Facade,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    since: Annotated[int | None, Query(ge=0, description="replay events after this seq")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Events after ``Last-Event-ID`` (or ``since``), replayed from the database, then live; without either,
    from now on. Each event's ``event`` is its kind and its ``data`` the JSON ``EngineEvent``."""
    after = last_event_id if last_event_id is not None else since
    yield ServerSentEvent(comment="DTMS events", retry=RECONNECT_MS)
    async for item in event_stream(
        facade.engine, after, request.app.state.closing, buffer=request.app.state.stream_buffer
    ):
        yield ServerSentEvent(id=str(item.seq), event=item.kind, data=item)
