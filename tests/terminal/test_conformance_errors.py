"""Conformance of SimulatedTerminal with MT5_API.md §2 (errors never raise) and §3 (connection lifecycle)."""

from __future__ import annotations

import pytest

from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import NO_IPC, SUCCESS, new_terminal

pytestmark = pytest.mark.sim(password="secret")


def test_failures_return_sentinels_and_set_last_error(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: failures return None (getters) or False (bool functions) and set last_error."""
    assert mt5.symbol_info("NOSUCH") is None
    assert mt5.last_error()[0] == -4
    assert mt5.symbol_select("NOSUCH", True) is False
    assert mt5.last_error()[0] == -4
    assert mt5.copy_rates_from_pos("EURUSD", 12345, 0, 10) is None
    assert mt5.last_error() == (-2, "Terminal: Invalid params")


def test_wrong_argument_count_is_an_error_not_an_exception(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: wrong argument counts give a sentinel and (-2, ...), not an exception."""
    assert mt5.symbol_info() is None
    assert mt5.last_error() == (-2, "Invalid number of arguments")
    assert mt5.copy_rates_from_pos("EURUSD", 1, 0) is None
    assert mt5.last_error() == (-2, "Invalid number of arguments")
    assert mt5.initialize("a", "b") is False
    assert mt5.last_error() == (-2, "Invalid number of arguments")


def test_every_call_but_last_error_resets_it(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2 / §11.1: every call except last_error() first resets it to (1, "Success")."""
    assert mt5.symbol_info("NOSUCH") is None
    failed = mt5.last_error()
    assert failed != SUCCESS
    assert mt5.last_error() == failed  # reading it does not reset it
    assert mt5.positions_total() == 0
    assert mt5.last_error() == SUCCESS
    assert mt5.symbol_info("NOSUCH") is None
    mt5.version()
    assert mt5.last_error() == SUCCESS


def test_bad_request_keys_are_named_in_the_message(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: -2 means bad arguments; the local messages name the bad key."""
    result = mt5.order_send({"action": 1, "symbol": "EURUSD", "volume": 1, "type": 0})
    assert result is None
    assert mt5.last_error() == (-2, 'Invalid "volume" argument')


def test_algo_trading_disabled_is_minus_8_on_order_send_only(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: -8 means algo trading is disabled in the terminal (order_send only)."""
    mt5.control("set_algo_trading", enabled=False)
    request = {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0}
    assert mt5.order_send(request) is None
    assert mt5.last_error() == (-8, "Auto-Trading using Python API disabled in Terminal")
    assert mt5.order_check(request) is not None
    assert mt5.terminal_info().trade_allowed is False
    mt5.control("set_algo_trading", enabled=True)
    assert mt5.order_send(request).retcode == 10009


def test_no_ipc_before_initialize_and_after_shutdown() -> None:
    """MT5_API.md §2: before initialize() and after shutdown(): (-10004, "No IPC connection")."""
    terminal = new_terminal()
    try:
        assert terminal.account_info() is None
        assert terminal.last_error() == NO_IPC
        assert terminal.positions_get() is None
        assert terminal.last_error() == NO_IPC
        assert terminal.order_send({"action": 1}) is None
        assert terminal.last_error() == NO_IPC
        assert terminal.initialize() is True
        assert terminal.account_info() is not None
        assert terminal.shutdown() is True
        assert terminal.symbols_total() is None
        assert terminal.last_error() == NO_IPC
    finally:
        terminal.close()


def test_no_ipc_once_the_terminal_died(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: once the terminal died every call gives (-10004, "No IPC connection")."""
    mt5.control("inject_fault", kind="disconnect")
    assert mt5.terminal_info() is None
    assert mt5.last_error() == NO_IPC
    assert mt5.initialize() is True
    assert mt5.terminal_info() is not None


def test_initialize_takes_only_path_by_position(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §3: initialize(path=None, *, login, password, server, timeout, portable); only path is
    positional."""
    assert mt5.initialize("C:/terminal64.exe", login=5_000_123, password="secret", server="DTMS-Sim",
                          timeout=1000, portable=False) is True  # fmt: skip
    assert mt5.initialize(path="C:/terminal64.exe") is True
    assert mt5.initialize("C:/terminal64.exe", 5_000_123) is False
    assert mt5.last_error() == (-2, "Invalid number of arguments")
    with pytest.raises(TypeError):
        mt5.initialize(account=1)


def test_rejected_account_gives_minus_6_and_leaves_disconnected(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §3: a rejected account gives -6; a failed initialize leaves the module disconnected."""
    assert mt5.initialize(login=42, password="secret") is False
    assert mt5.last_error() == (-6, "Terminal: Authorization failed")
    assert mt5.account_info() is None
    assert mt5.last_error() == NO_IPC
    assert mt5.initialize(login=5_000_123, password="wrong") is False
    assert mt5.last_error()[0] == -6
    assert mt5.initialize(login=5_000_123, password="secret", server="DTMS-Sim") is True


def test_initialize_timeout_gives_minus_10005(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §3: an initialize that times out gives -10005 and leaves the module disconnected."""
    mt5.control("inject_fault", kind="disconnect", failing_initializes=1)
    assert mt5.initialize() is False
    assert mt5.last_error() == (-10005, "IPC timeout")
    assert mt5.positions_total() is None
    assert mt5.initialize() is True


def test_login_positional_order_is_login_password_server(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §3: login(login, password=None, server=None, *, timeout): positional order is login,
    password, server."""
    assert mt5.login(5_000_123, "secret", "DTMS-Sim") is True
    assert mt5.login(5_000_123, "DTMS-Sim", "secret") is False  # server in the password slot
    assert mt5.last_error()[0] == -6
    assert mt5.login(5_000_123, password="secret", server="DTMS-Sim", timeout=5000) is True
    assert mt5.login(5_000_123, "secret", "DTMS-Sim", 5000) is False
    assert mt5.last_error() == (-2, "Invalid number of arguments")


def test_shutdown_returns_true_and_version_is_a_triple(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §3: shutdown() always returns True; version() -> (terminal_version, build, date_str)."""
    version = mt5.version()
    assert isinstance(version, tuple) and len(version) == 3
    assert isinstance(version[0], int) and isinstance(version[1], int) and isinstance(version[2], str)
    assert mt5.shutdown() is True
    assert mt5.shutdown() is True
    assert mt5.version() is None
    assert mt5.last_error() == NO_IPC
