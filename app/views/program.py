"""The windowed program: QApplication on a qasync loop, services, HTTP endpoint, window and tray.

Quitting goes through one ``asyncio.Event`` (the tray's Quit, closing the window without a tray, SIGINT,
SIGTERM), never ``app.quit()``: the loop keeps running until everything is closed in order (window tasks,
engine start, endpoint, engine, terminal worker, database), bounded by ``STOP_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from app.errors import ConfigurationError
from app.runtime import Services
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.demo import run_demo
from app.views.main_window import MainWindow
from app.views.theme import themes

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
STYLE_SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"
EXIT_OK, EXIT_INIT_FAILED, EXIT_CONFIGURATION = 0, 1, 2


def _install_stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    try:
        from app.headless import install_stop_signals
    except ImportError:
        from main import install_stop_signals  # type: ignore[no-redef]
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
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DTMS Desk")
    app.setQuitOnLastWindowClosed(False)
    if STYLE_SHEET.exists():
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


async def run_program(command: Any, stop: asyncio.Event | None = None, *,
                      on_window: Callable[[MainWindow], None] | None = None, tray_available: bool | None = None,
                      confirm: Callable[[Any, str], bool] | None = None) -> int:
    stop = stop or asyncio.Event()
    _install_stop_signals(asyncio.get_running_loop(), stop)
    services = await Services.open(command.options)
    server = _api_server(services)
    if server is not None:
        try:
            await server.start()
        except ConfigurationError as error:
            logger.error("cannot start the HTTP endpoint: %s", error)
            await services.close()
            return EXIT_CONFIGURATION
    bridge = EngineBridge(services.engine)
    window = MainWindow(bridge, quit_program=stop.set, simulated=services.simulated,
                        terminal=services.gateway.kind.value, database=services.data_dir / "dtms.sqlite3",
                        settings=services.settings, config_path=command.config_path,
                        account=services.gateway.account_info, api=server, tray_available=tray_available,
                        gateway=services.gateway,
                        **({"confirm": confirm} if confirm is not None else {}))
    window.log.attach()
    tasks = TaskKeeper("program")
    try:
        await window.load()
        window.show()
        if on_window is not None:
            on_window(window)
        tasks.spawn(_start(services), "engine-start")
        if services.simulated and services.settings.terminal.sim_demo:
            tasks.spawn(_demo_when_ready(services, bridge), "demo")
        await stop.wait()
        logger.info("stop requested")
        return EXIT_OK
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


async def _start(services: Services) -> None:
    if not await services.engine.start():
        logger.error("initialisation failed: %s (retry from the window)", services.engine.lifecycle.reason)
        return
    # What start-up built (market history, recovered trades, the window) lives as long as the program; frozen,
    # the collector's full passes skip it. With 1,000 trades those passes took 60-70 ms on the GUI thread, and
    # about 5 ms after (bench/bench_views.py). Garbage is collected first, so none is kept for good.
    gc.collect()
    gc.freeze()


async def _demo_when_ready(services: Services, bridge: EngineBridge) -> None:
    ready = asyncio.Event()
    if services.engine.ready:
        ready.set()
    bridge.lifecycle.connect(lambda p: ready.set() if p.get("state") == "READY" else None)
    await ready.wait()
    await run_demo(services)


async def _shut_down(services: Services, server: Any | None, window: MainWindow, tasks: TaskKeeper) -> None:
    await tasks.cancel_all(timeout=1.0)
    await window.close_tasks()
    if server is not None:
        await server.stop()
    await services.close()
