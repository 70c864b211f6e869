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
    options = RuntimeOptions(data_dir=tmp_path, settings=settings, terminal=TerminalKind.SIM, sim_speed=0.0,
                             sim_start=SIM_START, in_process=True)
    command = CommandLine(headless=False, config_path=tmp_path / "dtms.toml", options=options)
    windows: list[MainWindow] = []
    stop = asyncio.Event()
    gc.unfreeze()
    program = asyncio.ensure_future(run_program(command, stop, on_window=windows.append))
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
    window.tray.quit_action.trigger()
    assert stop.is_set()
    assert await asyncio.wait_for(program, 5.0) == 0
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{url}/dtms/health")
