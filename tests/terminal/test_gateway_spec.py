"""What the gateway tells its worker: which terminal to build and how to initialize it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from app.terminal.spec import TerminalKind, TerminalSpec
from tests.terminal import fake_module


def test_real_terminal_initialize_arguments() -> None:
    spec = TerminalSpec(
        kind="mt5", path=r"C:\MT5\terminal64.exe", login=123, password="pw", server="Broker-Live", portable=True
    )
    assert spec.kind is TerminalKind.MT5 and not spec.is_simulated
    assert spec.initialize_kwargs() == {
        "path": r"C:\MT5\terminal64.exe",
        "portable": True,
        "login": 123,
        "password": "pw",
        "server": "Broker-Live",
        "timeout": 60_000,
    }
    assert "pw" not in repr(spec)


def test_unset_account_fields_are_left_to_the_terminal() -> None:
    assert TerminalSpec(kind="mt5").initialize_kwargs() == {"timeout": 60_000}
    assert TerminalSpec(timeout_ms=5_000).initialize_kwargs() == {"timeout": 5_000}
    assert TerminalSpec(login=5_000_123).initialize_kwargs() == {"login": 5_000_123, "timeout": 60_000}


def test_the_simulator_is_built_from_the_spec(tmp_path: Path) -> None:
    spec = TerminalSpec(data_dir=tmp_path, seed=3, margin_mode=0, login=42, server="Sim-2")
    assert spec.is_simulated
    terminal = spec.create_terminal()
    try:
        assert terminal.initialize(**spec.initialize_kwargs())
        account = terminal.account_info()
        assert (account.login, account.server, account.margin_mode) == (42, "Sim-2", 0)
    finally:
        terminal.shutdown()
        terminal.close()


def test_a_module_terminal_is_imported_by_name() -> None:
    assert TerminalSpec(kind="module", module=fake_module.__name__).create_terminal() is fake_module
    assert TerminalSpec(kind="module", module="app.terminal:constants").create_terminal().TRADE_RETCODE_DONE == 10009
    with pytest.raises(ValueError, match="import path"):
        TerminalSpec(kind="module")


def test_a_spec_travels_to_the_worker_intact() -> None:
    spec = TerminalSpec(kind="sim", data_dir=Path("/tmp/x"), speed=10.0, password="s")
    assert pickle.loads(pickle.dumps(spec)) == spec
