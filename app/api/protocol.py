"""uvicorn's HTTP protocol with a read deadline: a request's line, headers and body must all arrive within
``read_timeout_s`` of its first byte (or of the connection opening), else the connection is closed.

uvicorn itself only times out idle keep-alive connections, so a client that sends half a request and then
nothing (slowloris) held its connection, and a task, for ever. A request fully read is left alone, however
long its answer takes (the event stream answers for hours).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


class _ReadDeadline:
    """The timer part, shared by both protocol classes."""

    read_timeout_s: float = 10.0
    _read_timer: asyncio.TimerHandle | None = None
    transport: Any

    def _arm(self) -> None:
        if self._read_timer is None:
            self._read_timer = asyncio.get_running_loop().call_later(self.read_timeout_s, self._read_expired)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_expired(self) -> None:
        self._read_timer = None
        if self.transport is not None and not self.transport.is_closing():
            logger.info("closing a connection whose request did not arrive within %.0f s", self.read_timeout_s)
            self.transport.close()


class GuardedH11(_ReadDeadline, H11Protocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._arm()
        super().data_received(data)
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


if HttpToolsProtocol is not None:

    class GuardedHttpTools(_ReadDeadline, HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            self._arm()
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)


def protocol_class(read_timeout_s: float) -> type:
    """The HTTP protocol for uvicorn's ``Config(http=...)`` with this read deadline."""
    base: type = GuardedHttpTools if HttpToolsProtocol is not None else GuardedH11
    return type(base.__name__, (base,), {"read_timeout_s": read_timeout_s})
