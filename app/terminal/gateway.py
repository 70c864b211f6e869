"""The engine's only way to MetaTrader 5: serialised calls with deadlines, a watchdog and typed helpers.

Calls go one at a time through a ``Transport`` (by default a spawned worker process). A call that passes
its deadline means the worker is stuck, most likely inside the module with the GIL held: the watchdog
kills that worker, starts a fresh one, marks the gateway disconnected and raises ``TerminalTimeout``.
The engine then reconnects with ``connect()``, which counts a new connection ``epoch``.

Connection state follows what the terminal says: a successful ``initialize`` connects; a failed one,
``shutdown``, an IPC error code (-10004 and its family) or a lost worker disconnects. Listeners hear
every change as ``(connected, reason)``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

import numpy as np

from app.errors import SimulatorOnly, TemporaryError, TerminalRequestInvalid, TerminalTimeout, TerminalUnavailable
from app.tasks import TaskKeeper
from app.terminal.constants import RES_E_INVALID_PARAMS
from app.terminal.position_feed import Cursor, PositionChanges
from app.terminal.replies import CallStats, GatewayStats, OrderOutcome, Reply, require
from app.terminal.retcodes import CONNECTION_LOST_CODES, classify
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import AccountInfo, SymbolInfo, TerminalInfo, Tick, TradeDeal, TradeOrder, TradePosition
from app.terminal.transport import ProcessTransport, Transport
from app.terminal.worker import RequestKind, WorkerRequest

logger = logging.getLogger(__name__)

ConnectionListener = Callable[[bool, str], None]

_INIT_FUNCTIONS = frozenset({"initialize", "login"})
_ORDER_FUNCTIONS = frozenset({"order_send", "order_check"})


class Gateway:
    def __init__(
        self,
        spec: TerminalSpec,
        *,
        transport: Transport | None = None,
        call_deadline: float = 10.0,
        order_deadline: float = 30.0,
        init_deadline: float = 75.0,
        restart_grace: float = 0.5,
    ) -> None:
        self._spec = spec
        self._transport: Transport = transport if transport is not None else ProcessTransport(spec)
        self._call_deadline = call_deadline
        self._order_deadline = order_deadline
        self._init_deadline = init_deadline
        self._restart_grace = restart_grace
        self._lock = asyncio.Lock()
        self._tasks = TaskKeeper("gateway")
        self._restart: asyncio.Task[None] | None = None
        self._running = False
        self._connected = False
        self._epoch = 0
        self._listeners: list[ConnectionListener] = []
        self._stats = CallStats()
        self._connect_error = ""
        #: the request in flight: (name, time.monotonic() when it was sent), None between calls
        self._in_flight: tuple[str, float] | None = None

    # --- state ------------------------------------------------------------------------------------------

    @property
    def kind(self) -> TerminalKind:
        return self._spec.kind

    @property
    def simulated(self) -> bool:
        """True when the terminal is a simulator (it answers control calls), False for a real MetaTrader 5."""
        return self._spec.is_simulated

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def epoch(self) -> int:
        """Successful connections so far: each ``initialize`` that succeeds starts a new epoch."""
        return self._epoch

    @property
    def last_connect_error(self) -> str:
        """Why the latest failed connection attempt failed ("" after a success)."""
        return self._connect_error

    def in_flight(self) -> tuple[str, float] | None:
        """The call waiting for the terminal now and the seconds it has waited; None between calls."""
        current = self._in_flight
        if current is None:
            return None
        return current[0], time.monotonic() - current[1]

    def stats(self) -> GatewayStats:
        return self._stats.snapshot()

    def add_listener(self, callback: ConnectionListener) -> None:
        self._listeners.append(callback)

    # --- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker (the terminal object is built there); connecting is ``connect()``'s job."""
        self._running = True
        await self._transport.start()

    async def close(self) -> None:
        """Stop the worker without waiting on a stuck call: ask, then terminate, then kill."""
        self._running = False
        await self._tasks.cancel_all(timeout=self._restart_grace)
        self._set_connected(False, "gateway closed")
        await self._transport.close(self._restart_grace)

    async def connect(
        self,
        attempts: int = 3,
        backoff: Sequence[float] = (1.0, 2.0, 4.0),
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        on_attempt: Callable[[int, int], None] | None = None,
    ) -> bool:
        """Call ``initialize`` until it succeeds, sleeping ``backoff[n]`` after failed attempt n + 1."""
        for attempt in range(1, attempts + 1):
            if on_attempt is not None:
                on_attempt(attempt, attempts)
            try:
                await self._ensure_worker()
                if await self.initialize():
                    return True
            except TemporaryError as exc:
                self._connect_error = str(exc)
            logger.info("connection attempt %d of %d failed: %s", attempt, attempts, self._connect_error)
            if attempt < attempts:
                await sleep(backoff[min(attempt - 1, len(backoff) - 1)])
        return False

    # --- calls ------------------------------------------------------------------------------------------

    async def call(self, fn: str, *args: Any, deadline: float | None = None, **kwargs: Any) -> Reply:
        """Call terminal function ``fn`` in the worker; only the gateway's own troubles raise."""
        if deadline is None:
            deadline = self._deadline_for(fn)
        reply = await self._send(WorkerRequest(RequestKind.CALL, fn, args, kwargs or None), deadline)
        self._stats.record(reply.duration_s, ok=reply.ok)
        self._follow_connection(fn, reply)
        return reply

    async def control(self, command: str, **kwargs: Any) -> Any:
        """A simulator control command (set_price, advance, inject_fault, ...), run where the terminal runs."""
        if not self._spec.is_simulated:
            raise SimulatorOnly(f"{command!r} is a simulator command; this gateway drives a real terminal")
        request = WorkerRequest(RequestKind.CONTROL, command, (), kwargs or None)
        reply = await self._send(request, self._call_deadline)
        if reply.raised is not None:
            raise TerminalRequestInvalid(f"control {command}", RES_E_INVALID_PARAMS, reply.raised)
        return reply.value

    async def _send(self, request: WorkerRequest, deadline: float) -> Reply:
        async with self._lock:
            if not self._transport.alive:
                self._worker_lost("the terminal worker is not running")
                raise TerminalUnavailable("the terminal worker is not running")
            started = time.perf_counter()
            if request.kind is not RequestKind.CONTROL:  # a terminal call (simulator controls are the tests' own)
                self._in_flight = (request.name, time.monotonic())
            try:
                raw = await self._transport.request(request, deadline)
            except TerminalTimeout:
                self._stats.timeouts += 1
                reason = f"{request.name} passed its {deadline:g} s deadline"
                logger.error("%s: restarting the terminal worker", reason)
                await self._transport.close(0.0)
                self._worker_lost(reason)
                raise
            except TerminalUnavailable as exc:
                self._worker_lost(str(exc))
                raise
            finally:
                self._in_flight = None
        return Reply(value=raw.value, error=raw.error, raised=raw.raised, duration_s=time.perf_counter() - started)

    def _deadline_for(self, fn: str) -> float:
        if fn in _INIT_FUNCTIONS:
            return self._init_deadline
        if fn in _ORDER_FUNCTIONS:
            return self._order_deadline
        return self._call_deadline

    def _follow_connection(self, fn: str, reply: Reply) -> None:
        if reply.raised is not None:
            return
        if fn == "initialize":
            if reply.ok:
                self._epoch += 1
                self._connect_error = ""
                self._set_connected(True, f"connected (epoch {self._epoch})")
            else:
                self._connect_error = f"initialize failed: {reply.error}"
                self._set_connected(False, self._connect_error)
        elif fn == "shutdown":
            self._set_connected(False, "shut down")
        elif reply.error[0] in CONNECTION_LOST_CODES:
            self._set_connected(False, f"{fn}: {reply.error}")

    def _set_connected(self, connected: bool, reason: str) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        logger.info("terminal %s: %s", "connected" if connected else "disconnected", reason)
        for listener in list(self._listeners):
            try:
                listener(connected, reason)
            except Exception:
                logger.exception("connection listener %r failed", listener)

    # --- worker restarts (the watchdog) -----------------------------------------------------------------

    def _worker_lost(self, reason: str) -> None:
        self._set_connected(False, reason)
        if self._running and (self._restart is None or self._restart.done()):
            self._restart = self._tasks.spawn(self._restart_worker(), "restart-worker")

    async def _restart_worker(self) -> None:
        self._stats.restarts += 1
        await self._transport.close(0.0)
        await self._transport.start()

    async def _ensure_worker(self) -> None:
        if not self._running:
            raise TerminalUnavailable("the gateway is not started")
        if self._restart is not None and not self._restart.done():
            await asyncio.wait({self._restart})
        if not self._transport.alive:
            await self._transport.start()

    # --- typed helpers ----------------------------------------------------------------------------------

    async def initialize(self) -> bool:
        """``initialize`` with the spec's account; True starts a new connection epoch."""
        reply = await self.call("initialize", **self._spec.initialize_kwargs())
        if reply.raised is not None:  # the spec's arguments do not fit this terminal: retrying cannot help
            raise TerminalRequestInvalid("initialize", RES_E_INVALID_PARAMS, reply.raised)
        return reply.ok

    async def account_info(self) -> AccountInfo:
        return require("account_info", await self.call("account_info"))

    async def terminal_info(self) -> TerminalInfo:
        return require("terminal_info", await self.call("terminal_info"))

    async def symbol_info(self, symbol: str) -> SymbolInfo:
        return require("symbol_info", await self.call("symbol_info", symbol))

    async def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        """Show (or hide) a symbol in Market Watch; a symbol outside it has no tick."""
        return bool(require("symbol_select", await self.call("symbol_select", symbol, enable)))

    async def tick(self, symbol: str) -> Tick:
        return require("symbol_info_tick", await self.call("symbol_info_tick", symbol))

    async def ticks(self, symbols: Sequence[str]) -> dict[str, Reply]:
        """``symbol_info_tick`` of every symbol in one round trip to the worker; each symbol's reply on its own
        (one symbol failing does not fail the others)."""
        symbols = tuple(symbols)
        replies = await self._each("symbol_info_tick", tuple((symbol,) for symbol in symbols))
        return dict(zip(symbols, replies, strict=True))

    async def rates_many(self, asked: Sequence[tuple[str, int, int, int]]) -> list[Reply]:
        """``copy_rates_from_pos`` of each ``(symbol, timeframe, start_pos, count)`` in one round trip to the
        worker; each reply on its own (one series failing does not fail the others)."""
        return await self._each("copy_rates_from_pos", tuple(asked))

    async def _each(self, fn: str, args: tuple[tuple[Any, ...], ...]) -> list[Reply]:
        """Calls of ``fn`` sent together in one request, one per item of ``args`` (that call's arguments), each
        answered (and counted, and followed for a lost connection) as the call would be on its own."""
        if not args:
            return []
        reply = await self._send(WorkerRequest(RequestKind.EACH, fn, args), self._call_deadline)
        if reply.raised is not None:
            raise TerminalRequestInvalid(fn, RES_E_INVALID_PARAMS, reply.raised)
        each = reply.duration_s / len(args)
        replies = [Reply(value=raw.value, error=raw.error, raised=raw.raised, duration_s=each) for raw in reply.value]
        for one in replies:
            self._stats.record(each, ok=one.ok)
            self._follow_connection(fn, one)
        return replies

    async def positions(self, **filters: Any) -> tuple[TradePosition, ...]:
        """Open positions (``symbol=``, ``group=`` or ``ticket=``); ``()`` when none match."""
        return require("positions_get", await self.call("positions_get", **filters))

    async def position_changes(self, since: Cursor | None) -> PositionChanges:
        """Every open position's moving numbers, and whole only the positions new or changed since the answer
        ``since`` names (all of them whole when that is not the worker's last answer)."""
        reply = await self._send(
            WorkerRequest(RequestKind.POSITIONS, "positions_get", (), {"since": since}), self._call_deadline
        )
        self._stats.record(reply.duration_s, ok=reply.ok)
        self._follow_connection("positions_get", reply)
        return require("positions_get", reply)

    async def rates(self, symbol: str, timeframe: int, start_pos: int, count: int) -> np.ndarray:
        """Bars oldest first, ``RATES_DTYPE``; ``start_pos`` 0 is the bar still forming."""
        reply = await self.call("copy_rates_from_pos", symbol, timeframe, start_pos, count)
        return require("copy_rates_from_pos", reply)

    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[TradeDeal, ...]:
        """``(date_from, date_to, group=)``, ``ticket=`` (the order) or ``position=``."""
        return require("history_deals_get", await self.call("history_deals_get", *args, **kwargs))

    async def position_deals(self, date_from: int, date_to: int, positions: Collection[int]) -> tuple[TradeDeal, ...]:
        """``history_deals_get(date_from, date_to)`` kept, in the worker, to the deals of ``positions``."""
        request = WorkerRequest(
            RequestKind.POSITION_DEALS, "history_deals_get", (date_from, date_to), {"positions": tuple(positions)}
        )
        reply = await self._send(request, self._call_deadline)
        self._stats.record(reply.duration_s, ok=reply.ok)
        self._follow_connection("history_deals_get", reply)
        return require("history_deals_get", reply)

    async def exit_deals(self, date_from: int, date_to: int) -> tuple[TradeDeal, ...]:
        """``history_deals_get(date_from, date_to)`` kept, in the worker, to the deals that close a position."""
        request = WorkerRequest(RequestKind.EXIT_DEALS, "history_deals_get", (date_from, date_to))
        reply = await self._send(request, self._call_deadline)
        self._stats.record(reply.duration_s, ok=reply.ok)
        self._follow_connection("history_deals_get", reply)
        return require("history_deals_get", reply)

    async def history_orders(self, *args: Any, **kwargs: Any) -> tuple[TradeOrder, ...]:
        return require("history_orders_get", await self.call("history_orders_get", *args, **kwargs))

    async def order_send(self, request: dict[str, Any]) -> OrderOutcome:
        """The terminal's verdict, accepted or not; never raises for it.

        ``TerminalTimeout`` (or ``TerminalUnavailable`` from a worker lost mid-call) still means the order's
        fate is unknown: re-read positions and deals before sending it again.
        """
        reply = await self.call("order_send", request)
        if reply.raised is not None:
            raise TerminalRequestInvalid("order_send", RES_E_INVALID_PARAMS, reply.raised)
        result = reply.value
        if result is None:
            return OrderOutcome(
                retcode=None, klass=None, result=None, error=reply.error, request=dict(request), comment=reply.error[1]
            )
        return OrderOutcome(
            retcode=result.retcode,
            klass=classify(result.retcode),
            result=result,
            error=reply.error,
            request=dict(request),
            comment=result.comment,
        )
