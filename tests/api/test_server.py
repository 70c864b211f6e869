"""The endpoint on a real socket, served by uvicorn on the program's own loop."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from app.api.server import ApiServer, bind_socket, format_url
from app.config import ApiSettings
from app.errors import ConfigurationError
from app.runtime import Services


@pytest.mark.qasync
async def test_served_on_the_qasync_loop_over_a_real_socket(
    idle: Services, make_app: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    import qasync

    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)
    caplog.set_level(logging.INFO, logger="app.api.server")
    settings = ApiSettings(port=0)
    server = ApiServer(make_app(idle), settings)
    before = signal.getsignal(signal.SIGINT)
    await server.start()
    try:
        assert server.port and server.port > 0
        assert f"listening on http://127.0.0.1:{server.port}" in caplog.text
        assert signal.getsignal(signal.SIGINT) is before  # uvicorn took no signal
        async with httpx.AsyncClient(base_url=server.url) as client:
            answers = [await client.get("/dtms/health") for _ in range(20)]
            refused = await client.get("/dtms/status", headers={"Host": "evil.example"})
        assert {a.status_code for a in answers} == {503}
        assert answers[0].json()["state"] == "STARTING"
        assert refused.status_code == 403
        stats = server.stats()
        assert (stats.total, stats.client_errors, stats.refused, stats.server_errors, stats.in_flight) == (
            21,
            1,
            1,
            20,
            0,
        )
        assert stats.p50_ms is not None and stats.p99_ms is not None
    finally:
        await server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            await client.get("/ping")


async def test_a_busy_port_is_a_configuration_error_not_an_exit(
    idle: Services, make_app: Callable[..., FastAPI]
) -> None:
    holder = bind_socket("127.0.0.1", 0)
    port = holder.getsockname()[1]
    try:
        server = ApiServer(make_app(idle), ApiSettings(port=port))
        with pytest.raises(ConfigurationError, match=re.escape(f"cannot listen on 127.0.0.1:{port}")):
            await server.start()
        assert not server.running
    finally:
        holder.close()


def test_the_socket_is_tcp_so_nagle_can_be_turned_off() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:80"),
        ("::1", "http://[::1]:80"),
        ("[::1]", "http://[::1]:80"),
        ("localhost", "http://localhost:80"),
    ],
)
def test_urls_name_the_address(host: str, url: str) -> None:
    assert format_url(host, 80) == url


async def test_stop_ends_open_event_streams(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    server = ApiServer(make_app(idle), ApiSettings(port=0))
    await server.start()
    received: list[str] = []

    async def listen() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            async with client.stream("GET", "/events") as response:
                async for line in response.aiter_lines():
                    received.append(line)

    listener = asyncio.ensure_future(listen())
    while server.stats().streams < 1:
        await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await server.stop()
    await asyncio.wait_for(listener, 5)
    assert loop.time() - started < 1.5  # not the graceful-shutdown timeout
    assert received[0] == ": DTMS events"
