"""Request counters for the health panel: how many requests, how they ended, how fast they were answered."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStats:
    total: int
    in_flight: int
    ok: int  # 1xx to 3xx
    client_errors: int  # 4xx, refusals included
    refused: int  # 401 and 403: not local, or no valid token
    server_errors: int  # 5xx
    streams: int  # open event streams
    last_request_at: float | None  # wall clock
    p50_ms: float | None  # time to the response's first line, over the recent requests
    p99_ms: float | None


class RequestCounters:
    def __init__(self, window: int = 2000) -> None:
        self.total = 0
        self.in_flight = 0
        self.ok = 0
        self.client_errors = 0
        self.refused = 0
        self.server_errors = 0
        self.streams = 0
        self.last_request_at: float | None = None
        self._latencies: deque[float] = deque(maxlen=window)

    def started(self) -> None:
        self.total += 1
        self.in_flight += 1
        self.last_request_at = time.time()

    def answered(self, status: int, seconds: float, *, stream: bool) -> None:
        self._latencies.append(seconds)
        if status >= 500:
            self.server_errors += 1
        elif status >= 400:
            self.client_errors += 1
            self.refused += status in (401, 403)
        else:
            self.ok += 1
        self.streams += stream

    def finished(self, *, stream: bool) -> None:
        self.in_flight -= 1
        self.streams -= stream

    def snapshot(self) -> RequestStats:
        p50 = p99 = None
        if self._latencies:
            values = np.fromiter(self._latencies, float) * 1000.0
            p50, p99 = (float(v) for v in np.percentile(values, (50, 99)))
        return RequestStats(
            total=self.total,
            in_flight=self.in_flight,
            ok=self.ok,
            client_errors=self.client_errors,
            refused=self.refused,
            server_errors=self.server_errors,
            streams=self.streams,
            last_request_at=self.last_request_at,
            p50_ms=p50,
            p99_ms=p99,
        )


class CountingMiddleware:
    """Outermost layer: counts every request, refused ones included."""

    def __init__(self, app: ASGIApp, counters: RequestCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counters = self.counters
        counters.started()
        started = time.perf_counter()
        stream = responded = False

        async def counted(message: Message) -> None:
            nonlocal stream, responded
            if message["type"] == "http.response.start":
                responded = True
                stream = _is_stream(message)
                counters.answered(int(message["status"]), time.perf_counter() - started, stream=stream)
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except Exception:
            if not responded:  # the error handler outside answers 500
                counters.answered(500, time.perf_counter() - started, stream=False)
            raise
        finally:
            counters.finished(stream=stream)


def _is_stream(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return value.startswith(b"text/event-stream")
    return False
