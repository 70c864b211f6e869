"""The endpoint's limits on a real socket: a partial request (slowloris) is closed within the read timeout,
open connections are capped (503 beyond), and ``allowed_hosts`` with the machine's own names for 0.0.0.0."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from app.api.server import ApiServer
from app.config import ApiSettings, AppSettings, settings_from_dict, settings_to_dict
from app.errors import InvalidSettings
from app.runtime import Services

from .conftest import client_for


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server closes the connection (EOF) within ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n",  # headers never finished
        (
            b"POST /dtms/trade/enable HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200\r\n\r\n{"ticket": 1'
        ),  # a body that stops
        b"",  # a connection that sends nothing
    ],
)
async def test_a_partial_request_is_closed_within_the_read_timeout(
    idle: Services, make_app: Callable[..., FastAPI], partial: bytes
) -> None:
    server = ApiServer(make_app(idle), ApiSettings(port=0, read_timeout_s=1.0))
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(partial)
        await writer.drain()
        assert await closed_within(reader, 5.0), "the partial request was held open"
        writer.close()
        async with httpx.AsyncClient(base_url=server.url) as client:  # a whole request is served as before
            assert (await client.get("/ping")).status_code == 200
    finally:
        await server.stop()


async def test_open_connections_are_capped(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    server = ApiServer(make_app(idle), ApiSettings(port=0, read_timeout_s=30.0, max_connections=4))
    await server.start()
    held: list[asyncio.StreamWriter] = []
    try:
        for _ in range(4):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            await writer.drain()
            held.append(writer)
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/ping")).status_code == 503
    finally:
        for writer in held:
            writer.close()
        await server.stop()


async def test_allowed_hosts_and_the_machines_own_names_on_every_interface(
    ready: Services, make_app: Callable[..., FastAPI]
) -> None:
    app = make_app(ready, host="0.0.0.0", allowed_hosts=("desk.example.lan",))
    token = (ready.data_dir / "api_token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    async with client_for(app) as client:
        for host in ("desk.example.lan", socket.gethostname()):
            answer = await client.get("/dtms/status", headers={**auth, "Host": f"{host}:8001"})
            assert answer.status_code == 200, (host, answer.text)
        assert (await client.get("/dtms/status", headers={**auth, "Host": "evil.example"})).status_code == 403
        assert (await client.get("/dtms/status", headers={"Host": "desk.example.lan"})).status_code == 401


def test_the_new_endpoint_settings_round_trip_and_are_checked() -> None:
    settings = settings_from_dict(
        {"api": {"read_timeout_s": 5.0, "max_connections": 32, "allowed_hosts": ["desk.lan", "192.168.1.20"]}}
    )
    assert settings_from_dict(settings_to_dict(settings)) == settings
    for bad in ({"read_timeout_s": 0.0}, {"max_connections": 1}, {"allowed_hosts": ["http://x/"]}):
        with pytest.raises(InvalidSettings):
            settings_from_dict({"api": bad})
    assert AppSettings().api.read_timeout_s == 10.0


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for value in node for k in _keys(value)}
    return set()


async def test_the_openapi_document_is_valid_and_names_the_bearer_token(
    ready: Services, make_app: Callable[..., FastAPI]
) -> None:
    async with client_for(make_app(ready)) as client:
        document = (await client.get("/openapi.json")).json()
    assert not _keys(document) & {"gt", "ge", "lt", "le"}, "pydantic keywords that are not OpenAPI"
    assert {"minimum", "maximum", "exclusiveMinimum"} <= _keys(document), "the bounds themselves are kept"
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "the token in the data dir's api_token file",
    }
    assert "security" not in document  # loopback without a token
    async with client_for(make_app(ready, require_token=True)) as client:
        token = (ready.data_dir / "api_token").read_text().strip()
        guarded = (await client.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})).json()
    assert guarded["security"] == [{"bearer": []}]
    async with client_for(make_app(ready)) as client:  # the bounds still hold after the reordering
        for bad in ({"kind": "block", "count": 0}, {"kind": "block", "count": True}, {"kind": "block", "seconds": 0}):
            assert (await client.post("/sim/faults", json=bad)).status_code == 422, bad


async def test_direction_words_are_ascii_only(ready: Services, make_app: Callable[..., FastAPI]) -> None:
    async with client_for(make_app(ready)) as client:
        for word in ("\u017fell", "BUY\u0307", "ｂｕｙ"):  # long s ("ſell".upper() == "SELL"), dotted, full width
            answer = await client.post("/dtms/trade/enable", json={"ticket": 1, "symbol": "EURUSD", "direction": word})
            assert answer.status_code == 422 and answer.json()["field"] == "direction", word


def test_the_safety_settings_round_trip_and_are_checked() -> None:
    settings = settings_from_dict(
        {
            "engine": {
                "connection": {"stall_threshold_s": 1.5},
                "database": {"check_interval_s": 60.0, "backup_interval_s": 120.0, "backups_kept": 5},
            }
        }
    )
    assert settings_from_dict(settings_to_dict(settings)) == settings
    assert settings.engine.database.backups_kept == 5 and settings.engine.connection.stall_threshold_s == 1.5
    defaults = AppSettings().engine
    assert (
        defaults.connection.stall_threshold_s,
        defaults.database.check_interval_s,
        defaults.database.backup_interval_s,
    ) == (2.0, 300.0, 86400.0)
    for bad in (
        {"connection": {"stall_threshold_s": 10.0}},
        {"database": {"check_interval_s": 1.0}},
        {"database": {"backups_kept": 0}},
    ):
        with pytest.raises(InvalidSettings):
            settings_from_dict({"engine": bad})
