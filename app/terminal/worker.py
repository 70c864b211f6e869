"""The terminal worker: owns one terminal and answers requests one at a time.

``serve`` is the target of the gateway's spawned worker process. ``handle`` answers one request and is
shared with the in-process transport, so both paths answer identically. Nothing a caller sends can kill
the worker: exceptions come back as data (type name and message), and a failing call's ``last_error()``
is read immediately after it, before anything else can reset it.

Wire format: the parent sends ``(seq, WorkerRequest)``; the worker answers ``(seq, WorkerReply)``.
Sequence number 0 is the worker's first message: the terminal is built (value = worker pid) or could
not be built (``raised`` says why, then the worker exits). A request that cannot be unpickled is answered
under sequence number -1 (calls are serialised, so it belongs to the one in flight). The worker's log records
(INFO and above) travel on the same channel under sequence number -2, as plain dicts, and the parent hands them
to its own logging under the worker's name (``forward_log``): one log file for the whole program.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import traceback
from enum import StrEnum
from itertools import repeat
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import numpy as np

from app.terminal import constants as mt5
from app.terminal.convert import to_plain
from app.terminal.position_feed import PositionFeed
from app.terminal.protocol import TERMINAL_FUNCTIONS
from app.terminal.spec import TerminalSpec
from app.terminal.structs import TradePosition

logger = logging.getLogger(__name__)

#: ``last_error()`` of a call that did not fail (the module resets to this on every call).
NO_ERROR: tuple[int, str] = (1, "Success")

#: Sequence number of the worker's start-up message.
STARTUP_SEQ = 0
#: Sequence number of the answer to a request the worker could not unpickle (it answers the call in flight).
UNREADABLE_SEQ = -1
#: Sequence number of a log record sent by the worker (the value is the record as a dict).
LOG_SEQ = -2
#: Lowest level of the worker's records sent to the parent.
WORKER_LOG_LEVEL = logging.INFO

_send_lock = threading.Lock()  # replies and log records share the pipe: one message at a time
_RECORD_FIELDS = (
    "name",
    "levelno",
    "levelname",
    "pathname",
    "filename",
    "module",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "process",
)


class RequestKind(StrEnum):
    CALL = "call"
    CONTROL = "control"
    #: ``positions_get`` answered as changes since the answer the parent applied last (``kwargs["since"]``)
    POSITIONS = "positions"
    #: ``name`` called once per item of ``args`` (each the tuple of that call's arguments), answered together, each
    #: answer as the call alone would give it: one round trip for a cycle's prices, or for a bar close's bars
    EACH = "each"
    #: ``history_deals_get(date_from, date_to)`` kept to the deals of the positions in ``kwargs["positions"]``:
    #: the closes of a cycle without every other deal of their time span crossing to the parent
    POSITION_DEALS = "position_deals"
    #: ``history_deals_get(date_from, date_to)`` kept to the deals that close (or reverse) a position: what the
    #: loss rails read, without the day's opening deals (thousands at thousands of trades)
    EXIT_DEALS = "exit_deals"
    STOP = "stop"


#: deal entries that close a position, or part of it (``EXIT_DEALS``)
EXIT_ENTRIES = frozenset((mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY, mt5.DEAL_ENTRY_INOUT))


class WorkerRequest(NamedTuple):
    kind: RequestKind
    name: str = ""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] | None = None


class WorkerReply(NamedTuple):
    value: Any
    #: ``last_error()`` read right after a call returned None or False; ``NO_ERROR`` otherwise.
    error: tuple[int, str]
    #: ``"TypeError: message"`` when the call raised instead of answering.
    raised: str | None


class PackedPositions(NamedTuple):
    """A long ``positions_get`` answer as columns: the numbers as numpy arrays (copied, not pickled one by
    one) and the strings as tuples; ``unpack_positions`` gives back the very same TradePosition tuple."""

    numbers: tuple[np.ndarray, ...]
    strings: tuple[tuple[str, ...], ...]


#: answers shorter than this are pickled as they are (packing costs more than it saves)
PACK_MIN_POSITIONS = 64
_INT_FIELDS = frozenset(TradePosition._fields[:9])
_NUMBER_TYPES = tuple(int if name in _INT_FIELDS else float for name in TradePosition._fields[:16])
_NEW = tuple.__new__


def pack_positions(value: Any) -> Any:
    """Columns of a long tuple of TradePosition; anything else (or any value a column would not carry
    exactly: another type, an integer past int64) as it is."""
    if type(value) is not tuple or len(value) < PACK_MIN_POSITIONS:
        return value
    if any(type(p) is not TradePosition for p in value):
        return value
    columns = list(zip(*value))
    for column, kind in zip(columns, (*_NUMBER_TYPES, str, str, str)):
        if set(map(type, column)) != {kind}:
            return value
    try:
        numbers = tuple(
            np.array(column, dtype=np.int64 if kind is int else np.float64)
            for column, kind in zip(columns[:16], _NUMBER_TYPES)
        )
    except OverflowError:
        return value
    return PackedPositions(numbers=numbers, strings=tuple(columns[16:]))


def unpack_positions(packed: PackedPositions) -> tuple[TradePosition, ...]:
    columns = [array.tolist() for array in packed.numbers]
    return tuple(map(_NEW, repeat(TradePosition), zip(*columns, *packed.strings)))


def describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def handle(terminal: Any, request: WorkerRequest, feed: PositionFeed | None = None) -> WorkerReply:
    """Answer one call or control request against ``terminal``; never raises. ``feed`` answers the
    ``POSITIONS`` requests (the positions the parent already has are kept there)."""
    kwargs = request.kwargs or {}
    try:
        if request.kind is RequestKind.POSITIONS:
            if feed is None:
                raise ValueError("this terminal answers no position changes")
            positions = terminal.positions_get()
            if positions is None:
                return WorkerReply(None, tuple(terminal.last_error()), None)
            return WorkerReply(feed.changes(positions, kwargs.get("since")), NO_ERROR, None)
        if request.kind is RequestKind.EACH:
            return WorkerReply(
                tuple(
                    handle(terminal, WorkerRequest(RequestKind.CALL, request.name, tuple(one))) for one in request.args
                ),
                NO_ERROR,
                None,
            )
        if request.kind in (RequestKind.POSITION_DEALS, RequestKind.EXIT_DEALS):
            deals = terminal.history_deals_get(*request.args)
            if deals is None:
                return WorkerReply(None, tuple(terminal.last_error()), None)
            if request.kind is RequestKind.POSITION_DEALS:
                wanted = frozenset(kwargs["positions"])
                return WorkerReply(to_plain(tuple(d for d in deals if d.position_id in wanted)), NO_ERROR, None)
            return WorkerReply(to_plain(tuple(d for d in deals if d.entry in EXIT_ENTRIES)), NO_ERROR, None)
        if request.kind is RequestKind.CALL:
            if request.name not in TERMINAL_FUNCTIONS:
                raise AttributeError(f"the terminal has no function {request.name!r}")
            value = getattr(terminal, request.name)(*request.args, **kwargs)
            error = tuple(terminal.last_error()) if value is None or value is False else NO_ERROR
        elif request.kind is RequestKind.CONTROL:
            control = getattr(terminal, "control", None)
            if control is None:
                raise AttributeError("this terminal takes no control commands")
            value = control(request.name, **kwargs)
            error = NO_ERROR
        else:
            raise ValueError(f"cannot handle a {request.kind!r} request")
        return WorkerReply(to_plain(value), error, None)
    except Exception as exc:  # a bad call is an answer, not the worker's end
        return WorkerReply(None, NO_ERROR, describe_exception(exc))


def serve(spec: TerminalSpec, requests: Connection, replies: Connection) -> None:
    """Worker process main loop: build the terminal, then answer until told to stop or the parent goes."""
    # Ctrl+C reaches the whole process group; stopping the worker is the parent's decision.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_log_channel(replies)
    try:
        terminal = spec.create_terminal()
    except Exception as exc:
        logger.warning("terminal worker could not build a %s terminal: %s", spec.kind, exc)
        _send(replies, STARTUP_SEQ, WorkerReply(None, NO_ERROR, describe_exception(exc)))
        return
    if not _send(replies, STARTUP_SEQ, WorkerReply(os.getpid(), NO_ERROR, None)):
        return
    feed = PositionFeed()
    while True:
        try:
            seq, request = requests.recv()
        except (EOFError, OSError):
            break
        except Exception as exc:  # the whole message was read, so the stream is still in step
            unreadable = WorkerReply(None, NO_ERROR, f"unreadable request: {describe_exception(exc)}")
            if not _send(replies, UNREADABLE_SEQ, unreadable):
                break
            continue
        if request.kind is RequestKind.STOP:
            shut_down(terminal)
            break
        reply = handle(terminal, request, feed)
        if request.kind is RequestKind.CALL and request.name == "positions_get":
            reply = reply._replace(value=pack_positions(reply.value))
        if not _send(replies, seq, reply):
            break


def _send(replies: Connection, seq: int, reply: WorkerReply) -> bool:
    """Send a reply; a result that cannot be pickled is answered as an error. False once the parent is gone."""
    try:
        with _send_lock:
            replies.send((seq, reply))
    except (EOFError, OSError):
        return False
    except Exception as exc:  # pickling happens before anything is written, so the stream stays intact
        with _send_lock:
            replies.send((seq, WorkerReply(None, NO_ERROR, f"unpicklable result: {describe_exception(exc)}")))
    return True


class _ChannelHandler(logging.Handler):
    """Sends each record to the parent as a plain dict (message formatted here, traceback as text)."""

    def __init__(self, replies: Connection) -> None:
        super().__init__(WORKER_LOG_LEVEL)
        self._replies = replies

    def emit(self, record: logging.LogRecord) -> None:
        data = {name: getattr(record, name, None) for name in _RECORD_FIELDS}
        try:
            data["msg"] = record.getMessage()
            if record.exc_info:
                data["exc_text"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            elif record.exc_text:
                data["exc_text"] = record.exc_text
            with _send_lock:
                self._replies.send((LOG_SEQ, WorkerReply(data, NO_ERROR, None)))
        except Exception:  # the parent is gone or the record is odd: a log line is never worth the worker
            pass


def install_log_channel(replies: Connection) -> None:
    """Route the worker's logging to the parent (replacing whatever the spawned interpreter had)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ChannelHandler(replies))
    root.setLevel(WORKER_LOG_LEVEL)


def forward_log(data: dict[str, Any], worker: str) -> None:
    """In the parent: hand a record the worker sent to this process's logging, named ``<worker>.<logger>``."""
    name = f"{worker}.{data.get('name') or 'root'}"
    target = logging.getLogger(name)
    level = int(data.get("levelno") or logging.INFO)
    if not target.isEnabledFor(level):
        return
    record = logging.makeLogRecord({**data, "name": name, "args": None, "exc_info": None, "processName": worker})
    target.handle(record)


def shut_down(terminal: Any) -> None:
    """Disconnect, then let a terminal that keeps resources (the simulator's database) release them."""
    try:
        terminal.shutdown()
        close = getattr(terminal, "close", None)
        if callable(close):
            close()
    except Exception:
        logger.exception("terminal shutdown failed in the worker")
