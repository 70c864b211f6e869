"""Files that hold account data are the owner's alone on POSIX: database, its backups and side journal, log,
token and lock notes are created 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from app.api.security import load_or_create_token
from app.config import AppSettings
from app.engine.registry import Registration
from app.logs import configure_logging
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_account_files_are_created_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        services = await Services.open(
            RuntimeOptions(
                data_dir=tmp_path, settings=AppSettings(), terminal=TerminalKind.SIM, sim_speed=0.0, in_process=True
            )
        )
        try:
            assert await services.engine.start()
            result = await services.gateway.control("open_position", symbol="EURUSD", type="BUY", volume=0.1)
            await services.engine.register(Registration(ticket=int(result["order"])))
        finally:
            await services.close()
        load_or_create_token(tmp_path)
        import logging

        handlers = list(logging.getLogger().handlers)
        configure_logging(tmp_path, console=False)
        for handler in logging.getLogger().handlers:
            if handler not in handlers:
                handler.close()
                logging.getLogger().removeHandler(handler)
        for handler in handlers:
            if handler not in logging.getLogger().handlers:
                logging.getLogger().addHandler(handler)
    finally:
        os.umask(previous)
    files = [
        tmp_path / "dtms.sqlite3",
        tmp_path / "api_token",
        tmp_path / "dtms-desk.log",
        tmp_path / "sim_broker.sqlite3",
        tmp_path / "desk.lock",
        tmp_path / "desk.lock.json",
        *sorted((tmp_path / "backups").glob("*.sqlite3")),
    ]
    assert list((tmp_path / "backups").glob("*.sqlite3")), "no backup was taken at the clean stop"
    assert {str(f.name): oct(mode(f)) for f in files if mode(f) != 0o600} == {}
