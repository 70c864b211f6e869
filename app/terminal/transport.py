"""How gateway requests reach a terminal: a spawned worker process, or (for unit tests) this process.

``ProcessTransport`` starts ``app.terminal.worker.serve`` with the spawn start method (never fork: the
parent may hold a QApplication) and talks to it over two one-way pipes. A reader thread blocks on the
reply pipe and hands each reply to the event loop with ``call_soon_threadsafe``, so awaiting a reply
neither blocks nor polls the loop, on asyncio and on qasync alike. Because the module holds the GIL
for a whole call, only a separate process keeps the loop responsive while a call is in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from app.errors import ConfigurationError, TerminalTimeout, TerminalUnavailable
from app.terminal import early
from app.terminal.position_feed import PositionFeed
from app.terminal.spec import TerminalSpec
from app.terminal.worker import (
    LOG_SEQ,
    NO_ERROR,
    STARTUP_SEQ,
    UNREADABLE_SEQ,
    PackedPositions,
    RequestKind,
    WorkerReply,
    WorkerRequest,
    describe_exception,
    forward_log,
    handle,
    serve,
    shut_down,
    unpack_positions,
)

logger = logging.getLogger(__name__)

#: How long a terminated worker gets to die before it is killed, and a killed one before it is given up.
_EXIT_WAIT_S = 0.5


class Transport(Protocol):
    """One terminal behind a request channel. ``start`` may be called again after ``close``."""

    @property
    def alive(self) -> bool: ...

    async def start(self) -> None: ...

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        """Answer ``request``; TerminalTimeout after ``deadline`` seconds, TerminalUnavailable if down."""
        ...

    async def close(self, grace: float) -> None:
        """Stop the terminal: ask politely for ``grace`` seconds (0: not at all), then force it."""
        ...


@dataclass(eq=False, slots=True)
class _Worker:
    """One worker process and its channel; a restart makes a new one, so late events hit the old one."""

    process: BaseProcess
    requests: Connection
    loop: asyncio.AbstractEventLoop
    pending: dict[int, asyncio.Future[WorkerReply]] = field(default_factory=dict)
    exited: asyncio.Event = field(default_factory=asyncio.Event)

    def deliver(self, seq: int, reply: WorkerReply) -> None:
        if seq == UNREADABLE_SEQ:
            self.fail_pending(reply)
            return
        future = self.pending.get(seq)
        if future is not None and not future.done():
            future.set_result(reply)

    def fail_pending(self, reply: WorkerReply) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_result(reply)

    def mark_exited(self) -> None:
        self.exited.set()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(TerminalUnavailable(f"the terminal worker exited ({self.process.exitcode})"))

    def read_replies(self, replies: Connection) -> None:
        """Reader thread: block on the reply pipe until the worker's end closes (it exited or was killed)."""
        try:
            while True:
                try:
                    seq, reply = replies.recv()
                except (EOFError, OSError):
                    break
                except Exception as exc:  # a reply the parent cannot unpickle still ends the call
                    unreadable = WorkerReply(None, NO_ERROR, f"unreadable reply: {describe_exception(exc)}")
                    self._post(self.fail_pending, unreadable)
                    continue
                if seq == LOG_SEQ:
                    forward_log(reply.value, self.process.name)  # logging is thread-safe: no loop needed
                    continue
                if not self._post(self.deliver, seq, reply):
                    return
            self._post(self.mark_exited)
        finally:
            replies.close()

    def _post(self, callback: Any, *args: Any) -> bool:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            return False
        return True


class ProcessTransport:
    """The terminal in a dedicated spawned worker process (the production path)."""

    def __init__(self, spec: TerminalSpec, *, start_timeout: float = 30.0) -> None:
        self._spec = spec
        self._start_timeout = start_timeout
        self._context = multiprocessing.get_context("spawn")
        self._seq = itertools.count(STARTUP_SEQ + 1)
        self._worker: _Worker | None = None

    @property
    def alive(self) -> bool:
        return self._worker is not None and not self._worker.exited.is_set()

    @property
    def pid(self) -> int | None:
        return self._worker.process.pid if self._worker is not None else None

    async def start(self) -> None:
        if self.alive:
            return
        await self.close(0.0)
        loop = asyncio.get_running_loop()
        launched = early.claim(self._spec)  # the program's first worker runs already (app.terminal.early)
        if launched is not None:
            process, request_writer, reply_reader = launched
        else:
            request_reader, request_writer = self._context.Pipe(duplex=False)
            reply_reader, reply_writer = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=serve,
                args=(self._spec, request_reader, reply_writer),
                name=f"dtms-terminal-{self._spec.kind}",
                daemon=True,
            )
            process.start()
            # The child holds its own ends now; closing ours lets the reader see EOF when the child exits.
            request_reader.close()
            reply_writer.close()
        worker = _Worker(process=process, requests=request_writer, loop=loop)
        started = loop.create_future()
        worker.pending[STARTUP_SEQ] = started
        threading.Thread(
            target=worker.read_replies, args=(reply_reader,), name=f"{process.name}-replies", daemon=True
        ).start()
        self._worker = worker
        try:
            async with asyncio.timeout(self._start_timeout):
                reply = await started
        except TimeoutError:
            await self.close(0.0)
            raise TerminalUnavailable(f"the terminal worker did not start within {self._start_timeout} s") from None
        except TerminalUnavailable:
            await self.close(0.0)
            raise
        finally:
            worker.pending.pop(STARTUP_SEQ, None)
        if reply.raised is not None:
            await self.close(0.0)
            raise ConfigurationError(f"cannot create the {self._spec.kind} terminal: {reply.raised}")
        logger.info("terminal worker %s started (pid %s)", process.name, process.pid)

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        worker = self._worker
        if worker is None or worker.exited.is_set():
            raise TerminalUnavailable("the terminal worker is not running")
        seq = next(self._seq)
        future: asyncio.Future[WorkerReply] = worker.loop.create_future()
        worker.pending[seq] = future
        try:
            try:
                worker.requests.send((seq, request))
            except OSError as exc:
                raise TerminalUnavailable(f"the terminal worker is gone: {exc}") from exc
            except Exception as exc:  # arguments that do not pickle are a bad call, answered like one
                return WorkerReply(None, NO_ERROR, f"unpicklable request: {describe_exception(exc)}")
            async with asyncio.timeout(deadline):
                reply = await future
            if type(reply.value) is PackedPositions:
                reply = reply._replace(value=unpack_positions(reply.value))
            return reply
        except TimeoutError:
            raise TerminalTimeout(f"{request.name or request.kind} got no answer within {deadline} s") from None
        finally:
            worker.pending.pop(seq, None)

    async def close(self, grace: float) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        process = worker.process
        if grace > 0 and not worker.exited.is_set():
            try:
                worker.requests.send((STARTUP_SEQ, WorkerRequest(RequestKind.STOP)))
            except OSError:
                pass
            await _wait(worker.exited, grace)
        if not worker.exited.is_set():
            logger.warning("terminating terminal worker pid %s", process.pid)
            process.terminate()
            if not await _wait(worker.exited, _EXIT_WAIT_S):
                logger.warning("killing terminal worker pid %s", process.pid)
                process.kill()
                await _wait(worker.exited, _EXIT_WAIT_S)
        worker.requests.close()
        process.join(timeout=0.1)
        worker.mark_exited()


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


class InProcessTransport:
    """The terminal object in this process, called directly (unit tests; a call blocks the loop).

    Built from ``spec`` (afresh on every start, as a new worker would be), or handed over ready-made as
    ``terminal`` (kept across restarts) when a test needs options a spec does not carry.
    """

    def __init__(self, spec: TerminalSpec | None = None, *, terminal: Any = None) -> None:
        if (spec is None) == (terminal is None):
            raise ValueError("give either a spec or a terminal object")
        self._spec = spec
        self._terminal = terminal
        self._running = False
        self._feed = PositionFeed()

    @property
    def alive(self) -> bool:
        return self._running

    @property
    def terminal(self) -> Any:
        return self._terminal

    async def start(self) -> None:
        if not self._running:
            if self._spec is not None:
                self._terminal = self._spec.create_terminal()
            self._feed = PositionFeed()
            self._running = True

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        if not self._running:
            raise TerminalUnavailable("the in-process terminal is stopped")
        return handle(self._terminal, request, self._feed)

    async def close(self, grace: float) -> None:
        if not self._running:
            return
        self._running = False
        if grace > 0:
            shut_down(self._terminal)
