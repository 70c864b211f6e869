"""DTMS Desk: ``python main.py`` (window) or ``python main.py --headless`` (engine and HTTP endpoint only).

Wiring only: command line, logging, services, then the window on a qasync loop or the headless loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from app.cli import CommandLine, parse
from app.errors import ConfigurationError, RejectedError
from app.logs import configure_logging
from app.runtime import Services

logger = logging.getLogger("dtms")


def display_available() -> bool:
    """On Linux a window needs an X11 or Wayland display (or an explicit Qt platform such as offscreen)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


async def headless(command: CommandLine) -> int:
    """Engine and endpoint until SIGINT/SIGTERM, with the account and prices printed every few seconds."""
    from app.console import print_status_until
    from app.headless import install_stop_signals, run_headless

    stop = asyncio.Event()
    install_stop_signals(asyncio.get_running_loop(), stop)
    services = await Services.open(command.options)
    status = asyncio.get_running_loop().create_task(print_status_until(services, stop), name="console-status")
    try:
        return await run_headless(services, command.options.settings, stop)
    finally:
        stop.set()
        await status


def main(argv: list[str] | None = None) -> int:
    try:
        command = parse(sys.argv[1:] if argv is None else argv)
    except ConfigurationError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    except RejectedError as error:  # a replay's bad input
        print(f"replay: {error}", file=sys.stderr)
        return 2
    if command.replay is not None:
        from app.replay.command import run_command

        return run_command(command.replay)
    log_path = configure_logging(command.options.data_dir)
    logger.info("DTMS Desk starting; data in %s, log in %s", command.options.data_dir, log_path)
    if not command.headless and not display_available():
        logger.warning("no display found: running headless (for a window on a server, use xvfb-run)")
    elif not command.headless:
        from app.views.program import run_window

        return run_window(command)
    try:
        return asyncio.run(headless(command))
    except ConfigurationError as error:
        logger.error("cannot start: %s", error)
        return 2


if __name__ == "__main__":
    sys.exit(main())
