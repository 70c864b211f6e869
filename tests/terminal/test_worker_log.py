"""The terminal worker's log records reach the main process's log file under the worker's name."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from app.logs import configure_logging
from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import ProcessTransport


async def test_a_worker_log_line_reaches_the_main_log_with_the_workers_name(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    log_file = configure_logging(tmp_path / "logs", console=False)
    spec = TerminalSpec(kind=TerminalKind.SIM, seed=5, data_dir=tmp_path / "sim")
    gateway = Gateway(spec, transport=ProcessTransport(spec))
    try:
        await gateway.start()
        assert await gateway.connect()
        await gateway.control("configure_symbol", symbol="EURUSD", spread_points=17)  # logged in the worker
        await gateway.control("inject_fault", kind="ipc_timeout", count=1)
        text = ""
        for _ in range(200):
            text = log_file.read_text(encoding="utf-8")
            if "reconfigured" in text and "fault armed" in text:
                break
            await asyncio.sleep(0.02)
        lines = text.splitlines()
        assert any(
            " INFO " in ln and "dtms-terminal-sim.app.terminal.sim.control: symbol EURUSD reconfigured" in ln
            for ln in lines
        ), text
        assert any("dtms-terminal-sim.app.terminal.sim.faults: fault armed" in ln for ln in lines), text
    finally:
        await gateway.close()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
