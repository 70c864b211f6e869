"""The whole windowed program on the simulator: endpoint, engine, demo positions on a first start, start-up
objects frozen for the collector, and a clean stop through the tray's Quit."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.cli import CommandLine
from app.config import AppSettings
from app.runtime import RuntimeOptions
from app.terminal.spec import TerminalKind
from app.views.main_window import MainWindow
from app.views.program import run_program
from tests.engine.conftest import SIM_START


@pytest.mark.qasync
async def test_program_runs_the_demo_and_quits_cleanly(tmp_path: Path) -> None:
    settings = AppSettings()
    settings = replace(settings, api=replace(settings.api, port=0))
    options = RuntimeOptions(
        data_dir=tmp_path,
        settings=settings,
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=SIM_START,
        in_process=True,
    )
    command = CommandLine(headless=False, config_path=tmp_path / "dtms.toml", options=options)
    windows: list[MainWindow] = []
    stop = asyncio.Event()
    gc.unfreeze()
    questions: list[str] = []

    def confirm(_window: object, question: str) -> bool:
        questions.append(question)
        return True

    program = asyncio.ensure_future(run_program(command, stop, on_window=windows.append, confirm=confirm))
    for _ in range(500):
        if windows and windows[0].trades.rowCount() == 3 and gc.get_freeze_count() > 0:
            break
        await asyncio.sleep(0.02)
    window = windows[0]
    assert window.trades.rowCount() == 3, "the three demo positions are registered"
    assert gc.get_freeze_count() > 0, "what start-up built is out of the collector's full passes"
    gc.unfreeze()  # the rest of the test session collects as usual
    window.health.refresh()
    url = window.health.text("HTTP endpoint")
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{url}/dtms/health")
    assert answer.status_code == 200 and answer.json()["active_trades"] == 3
    dialog = window.open_settings("Endpoint")  # run with port 0: the page names the port actually listening
    assert dialog.listening.text().startswith(f"Listening now on {url}") and not url.endswith(":0")
    assert "command line" in dialog.listening.text(), "the file's port (8001) is not what this run uses"
    dialog.reject()
    window.tray.quit_action.trigger()
    assert questions and questions[0].startswith("3 trades will no longer be protected")
    assert stop.is_set()
    assert await asyncio.wait_for(program, 5.0) == 0
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{url}/dtms/health")


@pytest.mark.qasync
@pytest.mark.slow
async def test_quit_stops_within_five_seconds_while_the_terminal_hangs(tmp_path: Path) -> None:
    """The terminal runs in its worker process (as in the program); a call there holds the worker's GIL for
    30 s. The window stays responsive and Quit still ends everything, worker included, within 5 s."""
    settings = AppSettings()
    settings = replace(settings, api=replace(settings.api, port=0), terminal=replace(settings.terminal, sim_demo=False))
    options = RuntimeOptions(
        data_dir=tmp_path, settings=settings, terminal=TerminalKind.SIM, sim_speed=0.0, sim_start=SIM_START
    )
    command = CommandLine(headless=False, config_path=tmp_path / "dtms.toml", options=options)
    windows: list[MainWindow] = []
    stop = asyncio.Event()
    program = asyncio.ensure_future(run_program(command, stop, on_window=windows.append))
    for _ in range(500):
        if windows and windows[0].bridge.engine.ready:
            break
        await asyncio.sleep(0.02)
    window = windows[0]
    engine = window.bridge.engine
    assert engine.ready
    gateway = engine._gateway
    await gateway.control("inject_fault", kind="block", seconds=30.0, function="positions_get")
    await asyncio.sleep(1.5)  # the monitoring loop's next cycle is now stuck inside the terminal
    ticks = 0
    for _ in range(10):  # the event loop (and so the window) keeps running meanwhile
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 10
    started = asyncio.get_running_loop().time()
    window.tray.quit_action.trigger()
    assert await asyncio.wait_for(program, 6.0) == 0
    assert asyncio.get_running_loop().time() - started < 5.0
    assert not gateway._transport.alive, "the stuck worker process was ended"
