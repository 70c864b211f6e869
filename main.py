"""DTMS Desk: ``python main.py`` (window) or ``python main.py --headless`` (engine and HTTP endpoint only).

Wiring only: command line, logging, services, then the window on a qasync loop or the headless loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from app.cli import parse
from app.errors import ConfigurationError
from app.logs import configure_logging
from app.runtime import Services

logger = logging.getLogger("dtms")


def install_stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set the stop event: a clean stop with exit code 0."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or a loop without signal support
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))


async def run_console(services: Services, stop: asyncio.Event) -> int:
    """Headless run: engine plus a periodic account and price summary on stdout."""
    from app.console import print_status_until

    try:
        if not await services.engine.start():
            logger.error("initialisation failed: %s", services.engine.lifecycle.reason)
            return 1
        await print_status_until(services, stop)
        return 0
    finally:
        await services.close()


async def headless(command) -> int:
    stop = asyncio.Event()
    install_stop_signals(asyncio.get_running_loop(), stop)
    services = await Services.open(command.options)
    try:
        from app.headless import run_headless
    except ImportError:
        return await run_console(services, stop)
    return await run_headless(services, command.options.settings, stop)


def main(argv: list[str] | None = None) -> int:
    try:
        command = parse(sys.argv[1:] if argv is None else argv)
    except ConfigurationError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    log_path = configure_logging(command.options.data_dir)
    logger.info("DTMS Desk starting; data in %s, log in %s", command.options.data_dir, log_path)
    if not command.headless:
        try:
            from app.views.program import run_window
        except ImportError:
            logger.info("the window is not available; running headless")
        else:
            return run_window(command)
    try:
        return asyncio.run(headless(command))
    except ConfigurationError as error:
        logger.error("cannot start: %s", error)
        return 2


if __name__ == "__main__":
    sys.exit(main())
