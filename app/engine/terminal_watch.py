"""What the terminal itself allows: trading permissions, its link to the broker's server, the server's zone.

Read at every connection and at every account check (and, for the link, whenever the ticks stop). Each
problem trips a rail that blocks sending and says in the trader's words what to do; the RAIL event
carries that explanation and marks the notice critical.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from app.engine.clock import TerminalClock
from app.engine.events import EventKind
from app.engine.rails import Rail, RailStatus, SafetyRails
from app.engine.recorder import Recorder

logger = logging.getLogger(__name__)

#: How often (wall seconds) the link is read again while no tick moves.
LINK_CHECK_EVERY_S = 10.0

ALGO_TRADING_OFF = "Algo Trading is off in the terminal: press the Algo Trading button in MetaTrader 5's toolbar"
PYTHON_API_OFF = (
    "the terminal refuses trading from Python: in MetaTrader 5 open Tools > Options > Expert Advisors "
    'and clear "Disable algorithmic trading via external Python API"'
)
ACCOUNT_NO_TRADING = (
    "the broker does not allow trading on this account (logged in with the investor password, "
    "or the account is read-only): log in with the master password"
)
ACCOUNT_NO_EXPERTS = (
    "the broker has disabled automated trading for this account: ask the broker to enable trading by Expert Advisors"
)
BROKER_LINK_LOST = (
    "MetaTrader 5 has lost its connection to the broker's server: no prices and no orders until "
    "it is back (check the connection status in the terminal's bottom-right corner)"
)


class WatchGateway(Protocol):
    async def terminal_info(self) -> Any: ...
    async def account_info(self) -> Any: ...
    async def call(self, fn: str, *args: Any, **kwargs: Any) -> Any: ...


def permission_problem(terminal: Any, account: Any) -> str:
    """Why the terminal or the broker refuses DTMS's orders, in the trader's words ("" when allowed)."""
    if not bool(terminal.trade_allowed):
        return ALGO_TRADING_OFF
    if bool(getattr(terminal, "tradeapi_disabled", False)):
        return PYTHON_API_OFF
    if not bool(account.trade_allowed):
        return ACCOUNT_NO_TRADING
    if not bool(account.trade_expert):
        return ACCOUNT_NO_EXPERTS
    return ""


def link_problem(terminal: Any) -> str:
    return "" if bool(terminal.connected) else BROKER_LINK_LOST


class TerminalWatch:
    def __init__(
        self,
        *,
        gateway: WatchGateway,
        rails: SafetyRails,
        clock: TerminalClock,
        recorder: Recorder,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._gateway = gateway
        self._rails = rails
        self._clock = clock
        self._recorder = recorder
        self._wall = wall
        self._link_checked_at = float("-inf")

    async def on_connect(self, symbols: Iterable[str]) -> None:
        """A new connection: the server's zone is measured again and permissions and link read."""
        self._clock.new_connection()
        await self.measure_offset(symbols)
        await self.check()

    async def measure_offset(self, symbols: Iterable[str]) -> None:
        """The zone from the freshest quote time the terminal shows: the ticks of a few managed symbols (or of
        the open positions' symbols), else every symbol's last quote time (one larger call, once)."""
        latest = 0.0
        chosen = list(symbols)[:3]  # a few quotes are enough: the zone is rounded to 15 minutes
        if not chosen:
            reply = await self._gateway.call("positions_get")
            if getattr(reply, "ok", False):
                chosen = sorted({str(p.symbol) for p in reply.value})[:3]
        for symbol in chosen:
            reply = await self._gateway.call("symbol_info_tick", symbol)
            if getattr(reply, "ok", False):
                latest = max(latest, float(reply.value.time))
        if not latest:
            reply = await self._gateway.call("symbols_get")
            if getattr(reply, "ok", False):
                latest = max((float(info.time) for info in reply.value), default=0.0)
        if latest:
            offset = self._clock.measure_offset(latest, provisional=True)
            if offset is not None:
                logger.info("the broker's server runs at UTC%+.4g h", offset / 3600)

    async def check(self) -> Any:
        """Read permissions and the link; returns the account info read (the account check reuses it)."""
        terminal = await self._gateway.terminal_info()
        account = await self._gateway.account_info()
        self._link_checked_at = self._wall()
        await self._apply(Rail.TRADING_PERMISSION, permission_problem(terminal, account))
        await self._apply_link(terminal)
        return account

    async def check_link_if_quiet(self, ticks_moved: bool) -> bool:
        """With no tick moving, read ``connected`` (at most every LINK_CHECK_EVERY_S); True if it was read."""
        if ticks_moved or self._wall() - self._link_checked_at < LINK_CHECK_EVERY_S:
            return False
        self._link_checked_at = self._wall()
        await self._apply_link(await self._gateway.terminal_info())
        return True

    async def _apply_link(self, terminal: Any) -> None:
        problem = link_problem(terminal)
        self._clock.set_link(not problem)
        await self._apply(Rail.BROKER_LINK, problem)

    async def _apply(self, rail: Rail, problem: str) -> None:
        for status in self._rails.evaluate_terminal(rail, problem):
            await self.publish(status)

    async def publish(self, status: RailStatus) -> None:
        if status.tripped:
            logger.warning("%s: %s", status.rail.value, status.detail)
        else:
            logger.info("%s: cleared", status.rail.value)
        await self._recorder.event(
            EventKind.RAIL,
            status.payload() | {"blocks_sending": True, "critical": status.tripped},
        )
