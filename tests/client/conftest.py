"""A small DTMS look-alike speaking the HTTP contract (app.api.schemas), in-process or on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.api.schemas import (
    DisableTradeRequest,
    EnableTradeRequest,
    EnableTradeResponse,
    ErrorResponse,
    HealthResponse,
    TradeDetail,
    TradeRegistryEntry,
    TradesResponse,
    validation_error,
)
from app.client import close_dtms_client

QUOTES = {"EURUSD": {"bid": 1.0851, "ask": 1.08522, "digits": 5}, "XAUUSD": {"bid": 2400.5, "ask": 2400.85}}


class FakeDtms:
    """Records what clients send and answers like DTMS would, with MT5-like strictness on order_send."""

    def __init__(self) -> None:
        self.ready = True
        self.enable_bodies: list[dict[str, Any]] = []
        self.order_requests: list[dict[str, Any]] = []
        self.trades: dict[int, TradeDetail] = {}
        self.positions: dict[int, tuple[str, str]] = {}  # ticket -> (symbol, direction), as MT5 has them
        self.enable_delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: list[int] = []  # client port of every enable request
        self.app = self._build()

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health() -> JSONResponse:
            if self.ready:
                body = HealthResponse(status="healthy", dtms_initialized=True, state="READY")
                return JSONResponse(body.model_dump(), 200)
            body = HealthResponse(
                status="unhealthy",
                readiness="not_ready",
                dtms_initialized=False,
                state="CONNECTING",
                reason="attempt 1 of 3",
            )
            return JSONResponse(body.model_dump(), 503)

        @app.post("/dtms/trade/enable")
        async def enable(request: Request) -> JSONResponse:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.peers.append(request.client.port if request.client else 0)
            try:
                await asyncio.sleep(self.enable_delay)
                return self._enable(await request.json())
            finally:
                self.in_flight -= 1

        @app.post("/dtms/trade/disable")
        async def disable(request: Request) -> JSONResponse:
            ticket = DisableTradeRequest.model_validate(await request.json()).ticket
            trade = self.trades.get(ticket)
            if trade is None:
                return _error(404, "not_managed", f"ticket {ticket} is not managed")
            self.trades[ticket] = trade.model_copy(update={"active": False})
            return JSONResponse({"success": True, "ticket": ticket})

        @app.get("/dtms/trades")
        async def trades() -> JSONResponse:
            listed = [trade for trade in self.trades.values() if trade.active]
            return JSONResponse(TradesResponse(trades=listed, count=len(listed)).model_dump())

        @app.get("/dtms/trade/{ticket}")
        async def trade(ticket: int) -> JSONResponse:
            if ticket not in self.trades:
                return _error(404, "not_found", f"ticket {ticket} is not managed")
            return JSONResponse(self.trades[ticket].model_dump())

        @app.get("/trade-registry/{ticket}")
        async def registry(ticket: int) -> JSONResponse:
            trade = self.trades.get(ticket)
            if trade is None:
                return JSONResponse(TradeRegistryEntry(ticket=ticket).model_dump())
            return JSONResponse(TradeRegistryEntry.model_validate(trade.model_dump()).model_dump())

        @app.get("/sim/ticks")
        async def ticks() -> JSONResponse:
            return JSONResponse(QUOTES)

        @app.post("/sim/order_send")
        async def order_send(request: Request) -> JSONResponse:
            return self._order_send(await request.json())

        return app

    def _enable(self, data: Any) -> JSONResponse:
        self.enable_bodies.append(data)
        try:
            body = EnableTradeRequest.model_validate(data)
        except ValidationError as exc:
            return JSONResponse(validation_error(exc.errors()).model_dump(), 422)
        symbol, direction = self.positions.get(body.ticket, (body.symbol, body.direction))
        if (symbol, direction) != (body.symbol, body.direction):
            return _error(409, "conflict", f"ticket {body.ticket} is a {direction} {symbol}", "direction")
        known = body.ticket in self.trades
        if not known:
            self.trades[body.ticket] = TradeDetail(
                ticket=body.ticket,
                symbol=body.symbol,
                direction=body.direction,
                entry=body.entry or 1.0,
                volume=body.volume or 0.01,
                sl=body.stop_loss or 0.0,
                tp=body.take_profit or 0.0,
                state="HEALTHY",
                synthetic_r=body.stop_loss is None,
                r=0.0015,
                strategy_type=body.strategy_type,
                managed_by=body.strategy_type or "dtms_manager",
            )
        answer = EnableTradeResponse(
            success=True,
            ticket=body.ticket,
            already_registered=known,
            trade_info=self.trades[body.ticket],
        )
        return JSONResponse(answer.model_dump())

    def _order_send(self, request: dict[str, Any]) -> JSONResponse:
        """A deal as MT5 takes it: ints must be int and prices float, or the call fails (-2)."""
        self.order_requests.append(request)
        int_keys = ("action", "type", "deviation", "magic", "type_filling")
        float_keys = ("volume", "price", "sl", "tp")
        if any(type(request.get(key, 0)) is not int for key in int_keys) or any(
            type(request.get(key, 0.0)) is not float for key in float_keys
        ):
            return _error(400, "invalid_request", "order_send: Invalid argument")
        ticket = 50_000_000 + len(self.order_requests)
        side = "BUY" if request["type"] == 0 else "SELL"
        self.positions[ticket] = (request["symbol"], side)
        return JSONResponse(
            {
                "retcode": 10009,
                "deal": ticket + 7,
                "order": ticket,
                "volume": request["volume"],
                "price": request["price"],
                "bid": QUOTES[request["symbol"]]["bid"],
                "ask": QUOTES[request["symbol"]]["ask"],
                "comment": "Request executed",
                "request_id": 1,
                "retcode_external": 0,
                "request": request,
            }
        )


def _error(status: int, error: str, detail: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(error=error, detail=detail, field=field).model_dump(), status)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test process keeps its own signal handlers
        yield


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port on the running loop; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = _QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="test-http-server")
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback address nobody listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def fake() -> FakeDtms:
    return FakeDtms()


@pytest.fixture
async def live_url(fake: FakeDtms) -> AsyncIterator[str]:
    """The fake on a real socket; the test's pooled DTMS clients are closed afterwards."""
    async with serving(fake.app) as url:
        try:
            yield url
        finally:
            await close_dtms_client()


@pytest.fixture
def threaded_url(fake: FakeDtms) -> Iterator[str]:
    """The fake on a real socket served from its own thread and loop, for callers that have no loop."""
    ready = threading.Event()
    shared: dict[str, Any] = {}

    async def serve() -> None:
        shared["loop"], shared["stop"] = asyncio.get_running_loop(), asyncio.Event()
        async with serving(fake.app) as url:
            shared["url"] = url
            ready.set()
            await shared["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="test-http-server", daemon=True)
    thread.start()
    assert ready.wait(10), "the test server did not start"
    try:
        yield shared["url"]
    finally:
        shared["loop"].call_soon_threadsafe(shared["stop"].set)
        thread.join(10)
