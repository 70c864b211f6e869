"""The windowed program: QApplication on a qasync loop, services, HTTP endpoint, window and tray.

Quitting goes through one ``asyncio.Event`` (the tray's Quit, closing the window without a tray, SIGINT,
SIGTERM), never ``app.quit()``: the loop keeps running until everything is closed in order (window tasks,
engine start, endpoint, engine, terminal worker, database), bounded by ``STOP_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.resources
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import qasync
from PySide6.QtWidgets import QApplication

from app.adoption import describe_policy
from app.demo import demo_allowed, run_demo_when_ready
from app.desk_lock import DeskAlreadyRunning
from app.errors import ConfigurationError
from app.runtime import Services
from app.tasks import TaskKeeper
from app.views.adoption_dialog import ask_adoption_once
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from app.views.theme import themes
from app.windows import set_app_user_model_id

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
STYLE_SHEET = importlib.resources.files("app.resources").joinpath("style.qss")
EXIT_OK, EXIT_INIT_FAILED, EXIT_CONFIGURATION = 0, 1, 2


def _install_stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    from app.headless import install_stop_signals

    install_stop_signals(loop, stop)


def _api_server(services: Services) -> Any | None:
    """The HTTP endpoint for ``services``, or None where this build has none."""
    try:
        from app.api.app import create_app
        from app.api.server import ApiServer
    except ImportError:
        logger.warning("the HTTP endpoint is not available in this build")
        return None
    return ApiServer(create_app(services, services.settings.api), services.settings.api)


def run_window(command: Any) -> int:
    """Run the window until the stop event; returns the process exit code."""
    set_app_user_model_id()  # Windows only: notifications come from "DTMS Desk", not "Python"
    # instance() is typed as the QCoreApplication base; the program only ever creates a QApplication
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    app.setApplicationName("DTMS Desk")
    app.setQuitOnLastWindowClosed(False)
    if STYLE_SHEET.is_file():
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    themes().apply(getattr(command, "theme", "") or command.options.settings.window.theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dtms")
    loop.set_default_executor(executor)
    try:
        with loop:
            return loop.run_until_complete(run_program(command))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


async def run_program(
    command: Any,
    stop: asyncio.Event | None = None,
    *,
    on_window: Callable[[MainWindow], None] | None = None,
    tray_available: bool | None = None,
    confirm: Callable[[Any, str], bool] | None = None,
) -> int:
    stop = stop or asyncio.Event()
    _install_stop_signals(asyncio.get_running_loop(), stop)
    app = cast("QApplication | None", QApplication.instance())  # a QApplication, as above
    if app is not None:  # logoff or shutdown reach a window through the session manager, not the console
        app.commitDataRequest.connect(lambda *_: stop.set())
    try:
        services = await Services.open(command.options)
    except DeskAlreadyRunning as refusal:
        logger.error("%s", refusal)
        show_refusal(str(refusal))
        return EXIT_CONFIGURATION
    except ConfigurationError as error:  # e.g. a data folder on a network share
        logger.error("cannot start: %s", error)
        return EXIT_CONFIGURATION
    logger.info("adoption policy in force: %s", describe_policy(services.settings.engine.adoption))
    server = _api_server(services)
    if server is not None:
        try:
            await server.start()
        except ConfigurationError as error:
            logger.error("cannot start the HTTP endpoint: %s", error)
            await services.close()
            return EXIT_CONFIGURATION
    bridge = EngineBridge(services.engine)
    extra: dict[str, Any] = {"confirm": confirm} if confirm is not None else {}
    window = MainWindow(
        bridge,
        quit_program=stop.set,
        simulated=services.simulated,
        terminal=services.gateway.kind.value,
        database=services.data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=command.config_path,
        account=services.gateway.account_info,
        api=server,
        tray_available=tray_available,
        gateway=services.gateway,
        **extra,
    )
    window.log.attach()
    tasks = TaskKeeper("program")
    try:
        await window.load()
        window.show()
        if on_window is not None:
            on_window(window)
        tasks.spawn(_start(services, stop), "engine-start")
        tasks.spawn(ask_adoption_once(services, command.config_path, window), "adoption-question")
        if command.run_demo and demo_allowed(services, asked=command.demo is True):
            tasks.spawn(run_demo_when_ready(services), "demo")
        await stop.wait()
        logger.info("stop requested")
        return EXIT_CONFIGURATION if services.engine.refusal is not None else EXIT_OK
    finally:
        window.log.detach()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await _shut_down(services, server, window, tasks)
        except TimeoutError:
            logger.error("shutdown took longer than %.0f s; leaving the rest", STOP_TIMEOUT_S)
        bridge.detach()
        window.hide()
        window.deleteLater()
        logger.info("stopped")


def show_refusal(message: str) -> None:
    """A second desk on the same data dir or account: say which one runs, then the caller exits."""
    from PySide6.QtWidgets import QMessageBox

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
    QMessageBox(QMessageBox.Icon.Warning, "DTMS Desk is already running", message).exec()


async def _start(services: Services, stop: asyncio.Event | None = None) -> None:
    try:
        started = await services.engine.start()
    finally:
        gc.enable()  # off while the program started (app.main)
    if not started:
        if services.engine.refusal is not None and stop is not None:
            show_refusal(str(services.engine.refusal))
            stop.set()
            return
        logger.error("initialisation failed: %s (retry from the window)", services.engine.lifecycle.reason)
        return
    # What start-up built (market history, recovered trades, the window) lives as long as the program; frozen,
    # the collector's full passes skip it. With 1,000 trades those passes took 60-70 ms on the GUI thread, and
    # about 5 ms after (bench/bench_views.py). Frozen without a collection first, as headless is: that pass over
    # everything start-up made held the GUI thread 80-190 ms at 10,000 trades to find about 50 KB of garbage.
    gc.freeze()


async def _shut_down(services: Services, server: Any | None, window: MainWindow, tasks: TaskKeeper) -> None:
    await tasks.cancel_all(timeout=1.0)
    await window.close_tasks()
    if server is not None:
        await server.stop()
    await services.close()
