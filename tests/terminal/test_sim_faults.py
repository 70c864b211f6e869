"""Fault injection: scripted and seeded random faults, as the engine will meet them on a live terminal."""

from __future__ import annotations

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import NO_IPC, open_terminal

IPC_TIMEOUT = (-10005, "IPC timeout")


def buy(mt5: SimulatedTerminal):  # noqa: ANN201
    return mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY)


def test_disconnect_fails_every_call_until_initialize(mt5: SimulatedTerminal) -> None:
    """ "disconnect": the terminal is lost, every call gives -10004 until an initialize() succeeds."""
    ticket = buy(mt5).order
    mt5.control("inject_fault", kind="disconnect")
    assert mt5.control("state")["connected"] is False
    for call in (mt5.positions_get, mt5.account_info, mt5.terminal_info, mt5.orders_total):
        assert call() is None
        assert mt5.last_error() == NO_IPC
    assert buy(mt5) is None and mt5.last_error() == NO_IPC
    assert mt5.initialize() is True
    assert [p.ticket for p in mt5.positions_get()] == [ticket]


def test_failing_initializes_keep_the_terminal_away(mt5: SimulatedTerminal) -> None:
    """ "disconnect" with failing_initializes=n: the next n initialize attempts fail, then one succeeds."""
    mt5.control("inject_fault", kind="disconnect", failing_initializes=2)
    assert mt5.initialize() is False and mt5.last_error() == IPC_TIMEOUT
    assert mt5.initialize() is False
    assert mt5.positions_total() is None and mt5.last_error() == NO_IPC
    assert mt5.initialize() is True
    assert mt5.positions_total() == 0


def test_ipc_timeout_fails_the_next_calls_of_a_function(mt5: SimulatedTerminal) -> None:
    """ "ipc_timeout": the next `count` calls (optionally only of `function`) fail with (-10005, "IPC timeout")."""
    mt5.control("inject_fault", kind="ipc_timeout", count=2, function="positions_get")
    assert mt5.account_info() is not None
    assert mt5.positions_get() is None and mt5.last_error() == IPC_TIMEOUT
    assert mt5.positions_get() is None and mt5.last_error() == IPC_TIMEOUT
    assert mt5.positions_get() == ()
    mt5.control("inject_fault", kind="ipc_timeout")
    assert buy(mt5) is None and mt5.last_error() == IPC_TIMEOUT
    assert mt5.positions_total() == 0  # the timed-out order never reached the server


def test_restart_keeps_positions_and_history(mt5: SimulatedTerminal) -> None:
    """ "restart": the connection drops until initialize; positions, orders and history are kept."""
    ticket = buy(mt5).order
    deals = mt5.history_deals_total(0, 2**31 - 1)
    mt5.market_book_add("EURUSD")
    mt5.control("inject_fault", kind="restart")
    assert mt5.positions_get() is None and mt5.last_error() == NO_IPC
    assert mt5.initialize()
    assert [p.ticket for p in mt5.positions_get()] == [ticket]
    assert mt5.history_deals_total(0, 2**31 - 1) == deals
    assert mt5.market_book_get("EURUSD") is None  # subscriptions do not survive a terminal restart


def test_algo_disabled_until_cleared(mt5: SimulatedTerminal) -> None:
    """ "algo_disabled": order_send -> None + (-8, ...), terminal_info().trade_allowed False until cleared."""
    mt5.control("inject_fault", kind="algo_disabled")
    assert buy(mt5) is None and mt5.last_error()[0] == -8
    assert mt5.terminal_info().trade_allowed is False
    assert mt5.control("state")["algo_trading"] is False
    mt5.control("clear_faults")
    assert mt5.terminal_info().trade_allowed is True
    assert buy(mt5).retcode == c.TRADE_RETCODE_DONE


def test_block_is_one_shot(mt5: SimulatedTerminal) -> None:
    """ "block" affects only the next call (or the next call of `function`), then calls run normally."""
    mt5.control("inject_fault", kind="block", seconds=0.05)
    assert mt5.control("state")["faults"]["scripted"] == [{"kind": "block", "count": 1, "seconds": 0.05}]
    assert mt5.positions_total() == 0
    assert mt5.control("state")["faults"]["scripted"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "earthquake"},
        {"kind": "retcode", "retcode": 10009},
        {"kind": "retcode", "retcode": 10004, "executed": True},
        {"kind": "ipc_timeout", "count": 0},
        {"kind": "ipc_timeout", "function": "no_such_function"},
        {"kind": "block", "seconds": -1},
        {"kind": "disconnect", "failing_initializes": "many"},
        {"kind": "block", "colour": "red"},
    ],
)
def test_bad_fault_parameters_are_value_errors(mt5: SimulatedTerminal, params: dict) -> None:
    """Fault injection validates its parameters and raises ValueError."""
    with pytest.raises(ValueError):
        mt5.control("inject_fault", **params)


def _run_random(seed: int) -> list[tuple[int, str]]:
    terminal = open_terminal()
    try:
        terminal.control("random_faults", seed=seed, probability=0.3, kinds=["ipc_timeout", "disconnect", "retcode"])
        outcomes = []
        for _ in range(60):
            result = buy(terminal)
            if result is None:
                outcomes.append(terminal.last_error())
                if terminal.last_error() == NO_IPC:
                    terminal.initialize()
            else:
                outcomes.append((result.retcode, result.comment))
        return outcomes
    finally:
        terminal.close()


def test_random_faults_are_seeded_and_mixed() -> None:
    """Random faults: a seeded generator with a probability per call and a list of kinds; the same seed gives
    the same faults."""
    first, again, other = _run_random(7), _run_random(7), _run_random(8)
    assert first == again
    assert first != other
    kinds = {code for code, _ in first}
    assert c.TRADE_RETCODE_DONE in kinds
    assert kinds & {-10005, -10004}
    assert kinds & {10004, 10012, 10020, 10021, 10024, 10031}
    assert 0.1 < sum(code != c.TRADE_RETCODE_DONE for code, _ in first) / len(first) < 0.6


def test_random_faults_spare_initialize(mt5: SimulatedTerminal) -> None:
    """Random faults never hit initialize, shutdown or last_error, so a reconnect loop always gets through."""
    mt5.control("random_faults", seed=1, probability=1.0, kinds=["ipc_timeout"])
    assert mt5.positions_total() is None
    assert all(mt5.initialize() for _ in range(10))
    mt5.control("clear_faults")
    assert mt5.positions_total() == 0


def test_a_refused_fault_arms_nothing(mt5: SimulatedTerminal) -> None:
    """A fault refused for a bad parameter leaves nothing armed."""
    with pytest.raises(ValueError):
        mt5.control("inject_fault", kind="retcode", retcode=10004, colour="red")
    assert mt5.control("state")["faults"]["scripted"] == []
    assert buy(mt5).retcode == c.TRADE_RETCODE_DONE
