"""DTMS Desk: ``dtms-desk`` (window) or ``dtms-desk --headless`` / ``dtms-desk-cli`` (engine and HTTP endpoint
only); ``python -m app`` and ``python main.py`` in a source checkout are the same program.

Wiring only: command line, logging, services, then the window on a qasync loop or the headless loop.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import TYPE_CHECKING

# Only what starts the terminal worker is imported up here: the worker is spawned before anything heavy, and a
# spawned interpreter imports this module again (as the main module's import), so it must stay light (asyncio
# too is imported where it is used: the worker has no use for it, and it took 40 ms of the worker's start).
from app.terminal import early

if TYPE_CHECKING:
    from app.api.server import ApiServer
    from app.cli import CommandLine
    from app.desk_lock import DeskAlreadyRunning

logger = logging.getLogger("dtms")


def display_available() -> bool:
    """On Linux a window needs an X11 or Wayland display (or an explicit Qt platform such as offscreen)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


async def headless(command: CommandLine) -> int:
    """Engine and endpoint until SIGINT/SIGTERM, with a status line on the console on change or every 30 s."""
    import asyncio

    from app.adoption import describe_policy
    from app.console import print_status_until
    from app.demo import demo_allowed, run_demo_when_ready
    from app.headless import install_stop_signals, run_headless
    from app.runtime import Services
    from app.tasks import TaskKeeper

    stop = asyncio.Event()
    install_stop_signals(asyncio.get_running_loop(), stop)
    services = await Services.open(command.options)
    logger.info(
        "adoption policy in force: %s (settings file %s)",
        describe_policy(services.settings.engine.adoption),
        command.config_path,
    )
    tasks = TaskKeeper("headless")
    if command.run_demo and demo_allowed(services, asked=command.demo is True):
        tasks.spawn(run_demo_when_ready(services), "demo")

    def listening(server: ApiServer) -> None:
        url = server.url or "?"
        if not command.quiet:
            tasks.spawn(print_status_until(services, stop, lambda: url), "console-status")

    return await run_headless(services, command.options.settings, stop, tasks=tasks, on_listening=listening)


def refuse(command: CommandLine, refusal: DeskAlreadyRunning) -> int:
    """A second desk says which desk runs and exits with code 2, having changed nothing."""
    print(f"DTMS Desk: {refusal}", file=sys.stderr)
    if not command.headless and display_available():
        from app.views.program import show_refusal

        show_refusal(str(refusal))
    return 2


def runs_terminal(args: list[str]) -> bool:
    """Whether this command line starts the program (and so a terminal worker), not a replay or the help."""
    return not any(arg in ("replay", "-h", "--help") for arg in args)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if runs_terminal(args):
        early.launch()  # its start and imports overlap ours; the spec follows once the settings are read
        # start-up allocates much and frees little: the collector's passes over it would be wasted (about 6 % of
        # the start's CPU at 10,000 trades). Enabled again once the engine's first start is over.
        gc.disable()
    try:
        return run(args)
    finally:
        early.discard()  # the gateway took it over, or the program never got that far
        gc.enable()


def run(args: list[str]) -> int:
    from app.cli import parse
    from app.desk_lock import DeskAlreadyRunning, data_dir_lock
    from app.errors import ConfigurationError, RejectedError
    from app.files import private_umask
    from app.logs import configure_logging

    try:
        command = parse(args)
    except ConfigurationError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    except RejectedError as error:  # a replay's bad input
        print(f"replay: {error}", file=sys.stderr)
        return 2
    if command.replay is not None:
        from app.replay.command import run_command

        return run_command(command.replay)
    try:
        # held for the life of the process; nothing in the data dir (not even the log) is touched without it
        data_dir_lock(command.options.data_dir)
    except DeskAlreadyRunning as refusal:
        return refuse(command, refusal)
    if command.options.in_process:
        early.discard()
    else:
        early.offer(command.options.terminal_spec())
    private_umask()
    log_path = configure_logging(
        command.options.data_dir, console_level=logging.WARNING if command.quiet else logging.INFO
    )
    logger.info("DTMS Desk starting; data in %s, log in %s", command.options.data_dir, log_path)
    if not command.headless and not display_available():
        logger.warning("no display found: running headless (for a window on a server, use xvfb-run)")
    elif not command.headless:
        from app.views.program import run_window

        return run_window(command)
    import asyncio

    try:
        return asyncio.run(headless(command))
    except ConfigurationError as error:
        logger.error("cannot start: %s", error)
        return 2


def main_cli(argv: list[str] | None = None) -> int:
    """``dtms-desk-cli``: the same program in a console, headless unless ``--window`` is given."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--window" in args:
        args.remove("--window")
    elif "--headless" not in args:
        args.insert(0, "--headless")
    return main(args)


if __name__ == "__main__":
    sys.exit(main())
