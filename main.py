"""DTMS Desk: ``python main.py`` (window) or ``python main.py --headless`` (engine and HTTP endpoint only).

Wiring only: command line, logging, services, then the window on a qasync loop or the headless loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from app.cli import CommandLine, parse
from app.desk_lock import DeskAlreadyRunning, data_dir_lock
from app.errors import ConfigurationError
from app.files import private_umask
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


def refuse(command: CommandLine, refusal: DeskAlreadyRunning) -> int:
    """A second desk says which desk runs and exits with code 2, having changed nothing."""
    print(f"DTMS Desk: {refusal}", file=sys.stderr)
    if not command.headless and display_available():
        from app.views.program import show_refusal

        show_refusal(str(refusal))
    return 2


def main(argv: list[str] | None = None) -> int:
    try:
        command = parse(sys.argv[1:] if argv is None else argv)
    except ConfigurationError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    try:
        # held for the life of the process; nothing in the data dir (not even the log) is touched without it
        data_dir_lock(command.options.data_dir)
    except DeskAlreadyRunning as refusal:
        return refuse(command, refusal)
    private_umask()
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
