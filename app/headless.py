"""``python main.py --headless``: the engine and the HTTP endpoint without a window, until a stop signal.

The engine's start goes first (it reads the trades on the database thread and waits for the terminal worker),
and the endpoint is imported, built and started while it waits, so bots get a 503 with the reason while the
engine connects. On the stop event everything ends in order: endpoint (open event streams first), engine,
terminal worker, database.
Exit codes: 0 after a clean stop, 1 when initialisation failed for good, 2 when the endpoint cannot listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.alerts.relay import attach_push
from app.errors import ConfigurationError
from app.tasks import TaskKeeper
from app.windows import install_console_stop

if TYPE_CHECKING:
    from app.api.server import ApiServer
    from app.config import AppSettings
    from app.runtime import Services

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INIT_FAILED = 1
EXIT_CONFIGURATION = 2

#: SIGBREAK is Ctrl+Break on Windows (which never sends SIGTERM); closing the console, logoff and shutdown come
#: through the console control handler of ``app.windows``.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM) + ((signal.SIGBREAK,) if hasattr(signal, "SIGBREAK") else ())


def install_stop_signals(loop: asyncio.AbstractEventLoop, stop_event: asyncio.Event) -> Callable[[], None]:
    """SIGINT, SIGTERM (and on Windows SIGBREAK and the console's close, logoff and shutdown events) set
    ``stop_event``. Returns a function that puts the previous handling back.

    Uses ``loop.add_signal_handler`` where the loop supports it, else (Windows) ``signal.signal`` with a
    thread-safe hand-over to the loop.
    """
    installed: list[tuple[signal.Signals, Any, bool]] = []  # signal, previous handler, through the loop

    def handler(_signum: int, _frame: Any) -> None:
        loop.call_soon_threadsafe(stop_event.set)

    for sig in STOP_SIGNALS:
        previous = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, stop_event.set)
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, handler)
            installed.append((sig, previous, False))
        else:
            installed.append((sig, previous, True))

    remove_console = install_console_stop(loop, stop_event)

    def remove() -> None:
        remove_console()
        for sig, previous, through_loop in installed:
            with contextlib.suppress(Exception):
                if through_loop:
                    loop.remove_signal_handler(sig)
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)

    return remove


async def run_headless(
    services: Services,
    settings: AppSettings,
    stop_event: asyncio.Event,
    *,
    tasks: TaskKeeper | None = None,
    on_listening: Callable[[ApiServer], None] | None = None,
) -> int:
    """Serve until ``stop_event`` is set; always closes ``services``. Returns the process exit code.

    ``on_listening`` is called once the endpoint listens; ``tasks`` (the console status, the demo bot) are
    cancelled before anything is closed."""
    # the engine starts first and the endpoint's modules (FastAPI, pydantic and the schemas: a third of the
    # program's imports) are imported in a thread meanwhile: that import overlaps the terminal worker's start and
    # the trades' load instead of coming before them. READY needs no endpoint; /health says 503 until then.
    starting = asyncio.ensure_future(services.engine.start())
    try:
        await import_in_thread("app.api.server")
        from app.api.app import create_app
        from app.api.server import ApiServer

        server = ApiServer(create_app(services, settings.api), settings.api)
        await server.start()
    except ConfigurationError as error:
        logger.error("cannot start the HTTP endpoint: %s", error)
        await _cancel(starting)
        if tasks is not None:
            await tasks.cancel_all()
        await services.close()
        return EXIT_CONFIGURATION
    except BaseException:
        await _cancel(starting)
        with contextlib.suppress(Exception):
            await services.close()
        raise
    relay = attach_push(services.engine, settings.alerts)  # notices to a phone, when push URLs are set
    try:
        if on_listening is not None:
            on_listening(server)
        return await _run_engine(services, starting, stop_event)
    finally:
        if tasks is not None:
            await tasks.cancel_all()
        if relay is not None:
            relay.close()
        await server.stop()
        await services.close()
        gc.unfreeze()  # what start-up froze can be collected again (a process that goes on, such as a test's)
        logger.info("stopped")


async def import_in_thread(name: str) -> None:
    """Import module ``name`` on a thread of its own while the loop goes on (at once when it is imported)."""
    if name in sys.modules:
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def work() -> None:
        error: BaseException | None = None
        try:
            importlib.import_module(name)
        except BaseException as caught:  # handed to the loop, which raises it
            error = caught
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=work, name=f"import {name}", daemon=True).start()
    await done


async def _cancel(task: asyncio.Future[Any]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _run_engine(services: Services, starting: asyncio.Future[bool], stop_event: asyncio.Event) -> int:
    engine = services.engine
    stopping = asyncio.ensure_future(stop_event.wait())
    try:
        await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            logger.info("stop requested while the engine was starting")
            return EXIT_OK
        gc.enable()  # off while the program started (app.main)
        try:
            started = starting.result()
        except Exception:
            logger.exception("the engine could not start")
            return EXIT_INIT_FAILED
        if not started and engine.refusal is not None:
            return EXIT_CONFIGURATION
        if not started:
            logger.error("initialisation failed: %s", engine.lifecycle.reason or engine.state.value)
            return EXIT_INIT_FAILED
        # what start-up built (recovered trades, market history, the endpoint) lives as long as the program, and
        # frozen, the collector's full passes skip it (at 10,000 trades such a pass held the loop 40-50 ms, in the
        # middle of whatever allocated last). Frozen without a collection first: with the collector off since the
        # program began, that pass went over everything start-up made (80-190 ms on the loop just as /health turned
        # 200) to find under 1,000 objects of garbage, about 50 KB (mostly classes replaced by their slotted copies
        # at import), which stay.
        gc.freeze()
        await stopping
        logger.info("stop requested")
        return EXIT_OK
    finally:
        for task in (starting, stopping):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
