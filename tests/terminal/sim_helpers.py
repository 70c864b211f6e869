"""What the simulator tests share: the fixed server time, the held EURUSD quote, error tuples, and the few
ways a test opens a terminal and sends a market order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from app.terminal.structs import OrderSendResult

START = 1_750_000_000.0  # a fixed server time, so every run sees the same prices
#: The fixed start of the market-model tests: a Wednesday mid-morning, 30 s into a minute.
MARKET_START = datetime(2025, 6, 11, 10, 20, 30, tzinfo=UTC).timestamp()
FAR = 2**31 - 1  # a date_to past every deal and order

BID, ASK = 1.10000, 1.10010
#: ``prices`` for a terminal whose EURUSD is held at BID/ASK.
HELD_EURUSD: Mapping[str, tuple[float, float]] = {"EURUSD": (BID, ASK)}

#: The ``open_sim`` fixture: ``open_terminal`` whose terminals are closed after the test.
OpenSim = Callable[..., SimulatedTerminal]

T = TypeVar("T")

SUCCESS = (1, "Success")
NO_IPC = (-10004, "No IPC connection")


def new_terminal(data_dir: Path | None = None, **options: Any) -> SimulatedTerminal:
    """A simulated terminal on a frozen clock at START with one day of history, not yet initialized;
    ``options`` go to SimulatedTerminal and may override ``history_days``."""
    options.setdefault("history_days", 1.0)
    return SimulatedTerminal(data_dir=data_dir, speed=0.0, start_time=START, **options)


def open_terminal(
    data_dir: Path | None = None, *, prices: Mapping[str, tuple[float, float]] | None = None, **options: Any
) -> SimulatedTerminal:
    """``new_terminal`` initialized, with each symbol in ``prices`` held at its (bid, ask)."""
    terminal = new_terminal(data_dir, **options)
    assert terminal.initialize()
    for symbol, (bid, ask) in (prices or {}).items():
        terminal.control("set_price", symbol=symbol, bid=bid, ask=ask)
    return terminal


def answered(result: T | None) -> T:
    """A terminal call's answer, which must have come (None would mean the call failed): the answer typed
    without its None, for the tests that unpack or sum it."""
    assert result is not None
    return result


def send(mt5: SimulatedTerminal, **request: Any) -> OrderSendResult:
    """order_send with the request as one dict (EURUSD unless it names a symbol); the server's answer,
    which must have come (None would mean it never reached the server)."""
    request.setdefault("symbol", "EURUSD")
    result = mt5.order_send(request)
    assert isinstance(result, OrderSendResult), mt5.last_error()
    return result


def deal(
    mt5: SimulatedTerminal, order_type: int = c.ORDER_TYPE_BUY, volume: float = 0.1, **extra: Any
) -> OrderSendResult:
    """A market deal (EURUSD unless ``symbol`` is given); the server's answer, whatever its retcode."""
    return send(mt5, action=c.TRADE_ACTION_DEAL, volume=volume, type=order_type, **extra)


def open_position(mt5: SimulatedTerminal, order_type: int = c.ORDER_TYPE_BUY, volume: float = 0.1, **extra: Any) -> int:
    """A market deal that must be executed; its order ticket, which is the position's on a hedging account."""
    result = deal(mt5, order_type, volume, **extra)
    assert result.retcode == c.TRADE_RETCODE_DONE, result
    return result.order
