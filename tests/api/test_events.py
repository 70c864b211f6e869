"""``GET /events``: persisted engine events as server-sent events, replayed and then live, none lost or doubled.

Events are produced as the engine's recorder produces them: stored first (which gives the ``seq``), then
published on the engine's bus. Streams need a real socket (the in-process transport buffers whole answers).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.server import ApiServer
from app.config import ApiSettings
from app.engine.events import EngineEvent, EventKind
from app.runtime import Services


class Producer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def store(self, n: int) -> list[EngineEvent]:
        events = []
        for i in range(n):
            payload = {"ticket": 1000 + i, "detail": f"event {i}"}
            stored = await self.services.repository.append_event(EventKind.ACTION.value, payload, 1.0 + i)
            events.append(
                EngineEvent(
                    kind=EventKind.ACTION, payload=payload, at=stored.at, wall_at=stored.wall_at, seq=stored.seq
                )
            )
        return events

    def publish(self, events: list[EngineEvent]) -> None:
        for event in events:
            self.services.engine.bus.publish(event)

    async def emit(self, n: int) -> list[EngineEvent]:
        events = await self.store(n)
        self.publish(events)
        return events


@pytest.fixture
async def server(idle: Services, make_app: Callable[..., FastAPI]) -> AsyncIterator[ApiServer]:
    server = ApiServer(make_app(idle), ApiSettings(port=0))
    await server.start()
    yield server
    await server.stop()


async def read_events(
    server: ApiServer,
    count: int,
    *,
    path: str = "/events",
    headers: dict[str, str] | None = None,
    on_open: Callable[[], Any] | None = None,
) -> list[dict[str, Any]]:
    """Read ``count`` events (id, event, data) from a stream, then hang up."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        async with client.stream("GET", path, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    if on_open is not None:
                        await on_open()
                        on_open = None
                elif line == "":
                    if "id" in current:  # the opening block carries only the retry time
                        events.append(current)
                        if len(events) == count:
                            break
                    current = {}
                else:
                    name, _, value = line.partition(": ")
                    current[name] = json.loads(value) if name == "data" else value
    return events


async def test_replay_from_last_event_id_then_live(idle: Services, server: ApiServer) -> None:
    producer = Producer(idle)
    old = await producer.emit(5)

    async def more() -> None:
        await asyncio.sleep(0.05)
        await producer.emit(3)

    events = await read_events(server, 6, headers={"Last-Event-ID": str(old[1].seq)}, on_open=more)
    ids = [int(e["id"]) for e in events]
    assert ids == list(range(old[2].seq, old[2].seq + 6))
    assert [e["event"] for e in events] == ["action"] * 6
    first = events[0]["data"]
    assert first["seq"] == old[2].seq and first["kind"] == "action" and first["payload"]["ticket"] == 1002
    assert first["at"] == 3.0


async def test_since_replays_and_without_either_the_stream_starts_now(idle: Services, server: ApiServer) -> None:
    producer = Producer(idle)
    old = await producer.emit(3)
    replayed = await read_events(server, 2, path=f"/events?since={old[0].seq}")
    assert [int(e["id"]) for e in replayed] == [old[1].seq, old[2].seq]

    async def one_more() -> None:
        await asyncio.sleep(0.05)
        await producer.emit(1)

    fresh = await read_events(server, 1, on_open=one_more)
    assert [int(e["id"]) for e in fresh] == [old[2].seq + 1]


async def test_a_slow_reader_loses_nothing(idle: Services, server: ApiServer) -> None:
    server.app.state.stream_buffer = 3
    producer = Producer(idle)
    start = await idle.repository.last_event_seq()

    async def burst() -> None:
        await asyncio.sleep(0.05)
        for _ in range(4):
            await producer.emit(10)  # published faster than the stream writes them

    events = await read_events(server, 40, path=f"/events?since={start}", on_open=burst)
    assert [int(e["id"]) for e in events] == list(range(start + 1, start + 41))


async def test_an_event_published_out_of_order_is_not_skipped(idle: Services, server: ApiServer) -> None:
    producer = Producer(idle)
    start = await idle.repository.last_event_seq()

    async def out_of_order() -> None:
        await asyncio.sleep(0.05)
        first, second = await producer.store(2)
        producer.publish([second, first])

    events = await read_events(server, 2, path=f"/events?since={start}", on_open=out_of_order)
    assert [int(e["id"]) for e in events] == [start + 1, start + 2]


async def test_live_only_events_are_not_streamed(idle: Services, server: ApiServer) -> None:
    producer = Producer(idle)
    start = await idle.repository.last_event_seq()

    async def mixed() -> None:
        await asyncio.sleep(0.05)
        idle.engine.bus.publish(EngineEvent(kind=EventKind.TRADE_UPDATED, payload={"ticket": 1}))
        await producer.emit(1)

    events = await read_events(server, 1, path=f"/events?since={start}", on_open=mixed)
    assert events[0]["event"] == "action" and int(events[0]["id"]) == start + 1


async def test_a_client_that_leaves_is_forgotten(idle: Services, server: ApiServer) -> None:
    await Producer(idle).emit(2)
    await read_events(server, 1, path="/events?since=0")
    for _ in range(100):
        if server.stats().streams == 0:
            break
        await asyncio.sleep(0.01)
    assert server.stats().streams == 0 and server.stats().in_flight == 0


@pytest.mark.parametrize("headers", [{"Last-Event-ID": "abc"}, {"Last-Event-ID": "-1"}])
async def test_a_bad_last_event_id_is_a_422(server: ApiServer, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/events", headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "Last-Event-ID"


async def test_an_unreadable_database_leaves_the_stream_open_with_live_events(
    idle: Services, server: ApiServer
) -> None:
    producer = Producer(idle)
    old = await producer.emit(3)
    live = EngineEvent(kind=EventKind.ACTION, payload={"ticket": 7}, at=9.0, wall_at=9.0, seq=old[-1].seq + 5)
    idle.engine._recorder.degrade("damaged: unreadable in this test")  # the engine writes aside from now on
    await idle.repository.close()  # and every read of the journal fails

    async def publish() -> None:
        await asyncio.sleep(0.05)
        producer.publish([live])

    events = await read_events(server, 1, path="/events?since=0", on_open=publish)
    assert [int(e["id"]) for e in events] == [live.seq], "the stream ended instead of going on live"
