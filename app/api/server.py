"""The HTTP endpoint served by uvicorn on the program's own event loop (qasync with a window, asyncio headless).

Embedding rules: uvicorn must not take the program's signals (no-op ``capture_signals``), must not bind
the port itself (a busy port makes it call ``sys.exit`` inside its task, which ends the whole program),
and the socket must be created with ``IPPROTO_TCP`` so asyncio turns Nagle off (otherwise every
keep-alive request waits ~40 ms). Logging stays with the program (``log_config=None``, no access log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from app.api.app import close_app
from app.api.metrics import RequestStats
from app.api.protocol import protocol_class
from app.config import ApiSettings
from app.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Seconds uvicorn waits for open connections to finish at shutdown before cancelling them.
GRACEFUL_SHUTDOWN_S = 2
_STARTUP_TIMEOUT_S = 10.0
_BACKLOG = 128


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # SIGINT/SIGTERM belong to the program, which stops this server through stop()
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket; a port in use raises ConfigurationError."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if sys.platform == "win32":
            # Windows' SO_REUSEADDR would let a second program take the same port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    return sock


def format_url(host: str, port: int) -> str:
    address = host.strip("[]")
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


class ApiServer:
    """``await start()`` returns once the endpoint listens; ``await stop()`` ends streams, then the server.

    Stopping closes the app too (its event streams end for good), so a new address means a new app and server.
    """

    def __init__(self, app: FastAPI, settings: ApiSettings) -> None:
        self._app = app
        self._settings = settings
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def app(self) -> FastAPI:
        return self._app

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def port(self) -> int | None:
        """The port listened on (the one picked when the settings say 0)."""
        return self._port

    @property
    def url(self) -> str | None:
        return format_url(self._settings.host, self._port) if self._port is not None else None

    @property
    def token_required(self) -> bool:
        return bool(self._app.state.token_required)

    def stats(self) -> RequestStats:
        return self._app.state.counters.snapshot()

    async def start(self) -> None:
        if self.running:
            return
        sock = bind_socket(self._settings.host, self._settings.port)
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            http=protocol_class(self._settings.read_timeout_s),  # a request must arrive whole in time
            limit_concurrency=self._settings.max_connections,  # beyond it: 503 at once, not a queue
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="api:server")
        self._task.add_done_callback(_report_end)
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT_S):
                while not server.started:
                    if self._task.done():
                        self._task.result()
                        raise ConfigurationError("the HTTP endpoint stopped while starting")
                    await asyncio.sleep(0.005)
        except BaseException:
            sock.close()
            await self._abandon()
            raise
        logger.info("listening on %s", self.url)

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        await close_app(self._app)
        server.should_exit = True
        try:
            async with asyncio.timeout(GRACEFUL_SHUTDOWN_S + 3.0):
                await asyncio.shield(task)
        except TimeoutError:
            logger.warning("the HTTP endpoint did not stop in time; forcing it")
            server.force_exit = True
            await self._abandon()
        except Exception:
            logger.exception("the HTTP endpoint failed while stopping")
        self._server = self._task = None
        logger.info("HTTP endpoint stopped")

    async def _abandon(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the HTTP endpoint failed", exc_info=task.exception())
