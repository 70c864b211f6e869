"""The terminal worker started first thing, before the program has even read its settings.

A spawned interpreter takes a while to start, import numpy and build its terminal (the simulator restores
every position it keeps). ``launch`` starts that process as the program's very first step, so all of it
overlaps the program's own imports; the ``TerminalSpec`` follows on the request pipe once the command line
and settings are read (``offer``), and the gateway's ``ProcessTransport`` takes the running process over on
its first start (``claim``) instead of spawning one. After that first start, or for any other terminal
(a restart, a test's own gateway), workers are spawned as before.

The process is the same ``serve`` loop as a spawned worker; it only reads its spec from the pipe first. A
worker nobody claims is ended by ``discard`` (and, failing that, by the end of the pipe when the program
exits).
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from app.terminal.spec import TerminalSpec

logger = logging.getLogger(__name__)

#: how long ``discard`` waits for an unclaimed worker to end after its pipe closed, before terminating it
_EXIT_WAIT_S = 0.5


@dataclass(slots=True, kw_only=True)
class EarlyWorker:
    process: BaseProcess
    requests: Connection  # the parent's end of the request pipe
    replies: Connection  # the parent's end of the reply pipe
    spec: TerminalSpec | None = None  # what was sent, once offered


_early: EarlyWorker | None = None


def launch() -> None:
    """Spawn the worker now; it waits for its spec. Replaces (and ends) one launched before and never claimed."""
    global _early
    discard()
    context = multiprocessing.get_context("spawn")
    request_reader, request_writer = context.Pipe(duplex=False)
    reply_reader, reply_writer = context.Pipe(duplex=False)
    process = context.Process(
        target=serve_when_told, args=(request_reader, reply_writer), name="dtms-terminal-early", daemon=True
    )
    process.start()
    request_reader.close()
    reply_writer.close()
    _early = EarlyWorker(process=process, requests=request_writer, replies=reply_reader)


def offer(spec: TerminalSpec) -> None:
    """Send the launched worker its spec: it builds the terminal now, before anyone asks for it."""
    early = _early
    if early is None or early.spec is not None:
        return
    try:
        early.requests.send(spec)
    except OSError as error:  # it died: the gateway spawns one of its own
        logger.warning("the early terminal worker is gone (%s); a new one will be started", error)
        discard()
        return
    early.spec = spec
    early.process.name = f"dtms-terminal-{spec.kind}"


def claim(spec: TerminalSpec) -> tuple[BaseProcess, Connection, Connection] | None:
    """The launched worker (process, request end, reply end) when it was offered ``spec`` and still runs;
    else None (it is ended: a worker building another terminal must not be left running)."""
    global _early
    early = _early
    if early is None:
        return None
    if early.spec != spec or not early.process.is_alive():
        discard()
        return None
    _early = None
    return early.process, early.requests, early.replies


def discard() -> None:
    """End a launched worker nobody claimed (its pipe closes; it exits, or is terminated)."""
    global _early
    early, _early = _early, None
    if early is None:
        return
    early.requests.close()
    early.replies.close()
    early.process.join(_EXIT_WAIT_S)
    if early.process.is_alive():
        early.process.terminate()
        early.process.join(_EXIT_WAIT_S)


def serve_when_told(requests: Connection, replies: Connection) -> None:
    """Worker process: import what a terminal needs while waiting, then serve the spec that arrives first."""
    from app.files import private_umask
    from app.terminal.worker import serve

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group; the parent decides
    if importlib.util.find_spec("MetaTrader5") is None:
        import app.terminal.sim.terminal  # noqa: F401  (the terminal this machine runs by default)
    try:
        spec = requests.recv()
    except (EOFError, OSError):  # never told: the program ended or went another way
        return
    private_umask()  # as a worker spawned after the program set it
    serve(spec, requests, replies)
