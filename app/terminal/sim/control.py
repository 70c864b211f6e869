"""Control commands: how tests and the ``/sim/`` routes drive the simulated world (prices, clock, faults,
broker rules, trades made elsewhere) through the same channel as module calls.

Every command answers plain JSON-friendly values and raises ValueError for an unknown command or bad
arguments. Commands never touch last_error: they are not module calls.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.terminal import constants as c
from app.terminal.sim.codes import CallError
from app.terminal.sim.faults import FaultKind
from app.terminal.sim.requests import parse_request
from app.terminal.sim.symbols import SymbolSpec

if TYPE_CHECKING:
    from app.terminal.sim.terminal import SimulatedTerminal

logger = logging.getLogger(__name__)

_MARKET_COMMANDS = frozenset({"set_price", "release_price", "play_path", "advance", "set_speed"})
_SPEC_TYPES = {f.name: f.type for f in dataclasses.fields(SymbolSpec)}
_SIDES = {"BUY": c.ORDER_TYPE_BUY, "SELL": c.ORDER_TYPE_SELL}


def _result_dict(result: Any) -> dict[str, Any]:
    data = result._asdict()
    data["request"] = data["request"]._asdict()
    return data


def _number(name: str, value: Any, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return float(value)


class Controller:
    def __init__(self, terminal: SimulatedTerminal) -> None:
        self._t = terminal
        self._commands: dict[str, Callable[..., Any]] = {
            name[len("cmd_") :]: getattr(self, name) for name in dir(self) if name.startswith("cmd_")
        }

    @property
    def commands(self) -> list[str]:
        return sorted(self._commands)

    def run(self, command: str, kwargs: dict[str, Any]) -> Any:
        handler = self._commands.get(command)
        if handler is None:
            raise ValueError(f"unknown control command {command!r}; known: {self.commands}")
        try:
            inspect.signature(handler).bind(**kwargs)
        except TypeError as exc:
            raise ValueError(f"{command}: {exc}") from None
        world = self._t._world
        world.loop.catch_up()
        result = handler(**kwargs)
        world.loop.catch_up()
        self._t._persist(settings=True, market=command in _MARKET_COMMANDS)
        return result

    def _symbol(self, symbol: Any) -> str:
        if symbol not in self._t._world.market.symbols:
            raise ValueError(f"unknown symbol {symbol!r}")
        return symbol

    # --- prices and clock ------------------------------------------------------------------------------

    def cmd_set_price(self, symbol: str, bid: float, ask: float | None = None) -> dict[str, Any]:
        bid_value = _number("bid", bid, minimum=0.0)
        ask_value = None if ask is None else _number("ask", ask, minimum=bid_value)
        self._t._world.market.set_price(self._symbol(symbol), bid_value, ask_value)
        return self.cmd_quotes()[symbol]

    def cmd_release_price(self, symbol: str) -> dict[str, Any]:
        self._t._world.market.release_price(self._symbol(symbol))
        return self.cmd_quotes()[symbol]

    def cmd_play_path(self, symbol: str, points: list[Any], spread_points: int | None = None) -> dict[str, Any]:
        try:
            path = [(float(t), float(b)) for t, b in points]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"points must be [seconds, bid] pairs: {exc}") from None
        self._t._world.market.play_path(self._symbol(symbol), path, spread_points=spread_points)
        return self.cmd_quotes()[symbol]

    def cmd_quotes(self) -> dict[str, dict[str, Any]]:
        market = self._t._world.market
        quotes = {}
        for name in market.symbols:
            quote = market.quote(name)
            quotes[name] = {"bid": quote.bid, "ask": quote.ask, "time_msc": quote.time_msc,
                            "scripted": market.is_scripted(name)}  # fmt: skip
        return quotes

    def cmd_advance(self, seconds: float) -> float:
        self._t._world.clock.advance(_number("seconds", seconds, minimum=0.0))
        return self._t._world.clock.now()

    def cmd_set_speed(self, speed: float) -> float:
        self._t._world.clock.set_speed(_number("speed", speed, minimum=0.0))
        return self._t._world.clock.speed

    def cmd_now(self) -> float:
        return self._t._world.clock.now()

    # --- faults ----------------------------------------------------------------------------------------

    def cmd_inject_fault(self, kind: str, **params: Any) -> dict[str, Any]:
        faults = self._t._faults
        fault = faults.inject(kind, **params)
        if fault in (FaultKind.DISCONNECT, FaultKind.RESTART):
            self._t._lose_connection(str(fault))
        elif fault is FaultKind.OUTSIDE_MARKET_WATCH:
            for symbol in faults.hide:
                self._symbol(symbol)
            self._t._world.hidden.update(faults.hide)
            faults.hide = []
            self._t._persist(settings=True)
        elif fault is FaultKind.BROKER_LINK_LOST:
            views = self._t._world.views
            self._t._frozen_ticks = {name: views.tick(name) for name in self._t._world.market.symbols}
        return self._t._faults.describe()

    def cmd_clear_faults(self) -> dict[str, Any]:
        self._t._faults.clear()
        self._t._frozen_ticks = {}
        return self._t._faults.describe()

    def cmd_random_faults(
        self, seed: int, probability: float, kinds: list[str], block_seconds: float = 0.05
    ) -> dict[str, Any]:
        self._t._faults.set_random(seed, probability, kinds, block_seconds)
        return self._t._faults.describe()

    # --- broker and terminal settings ------------------------------------------------------------------

    def cmd_configure_symbol(self, symbol: str, **fields: Any) -> dict[str, Any]:
        spec = self._t._world.market.symbols[self._symbol(symbol)]
        checked: dict[str, Any] = {}
        for key, value in fields.items():
            kind = _SPEC_TYPES.get(key)
            if kind is None or key == "name":
                raise ValueError(f"configure_symbol: {key!r} is not a changeable symbol field")
            if kind == "bool":
                ok = isinstance(value, bool)
            elif kind == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif kind == "float":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                value = float(value) if ok else value
            else:
                ok = isinstance(value, str)
            if not ok:
                raise ValueError(f"configure_symbol: {key} must be {kind}, got {value!r}")
            checked[key] = value
        for key, value in checked.items():
            setattr(spec, key, value)
        self._t._world.symbol_overrides.setdefault(symbol, {}).update(checked)
        logger.info("symbol %s reconfigured: %s", symbol, checked)
        return dataclasses.asdict(spec)

    def cmd_configure_account(
        self,
        margin_mode: int | None = None,
        balance: float | None = None,
        leverage: int | None = None,
        trade_allowed: bool | None = None,
    ) -> dict[str, Any]:
        world = self._t._world
        account = world.broker.account
        if margin_mode is not None and margin_mode != account.margin_mode:
            if margin_mode not in (c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING, c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING):
                raise ValueError(f"margin_mode must be 0 (netting) or 2 (hedging), got {margin_mode!r}")
            if world.broker.positions or world.broker.orders:
                raise ValueError("margin_mode cannot change while positions or orders are open")
        if leverage is not None and (isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1):
            raise ValueError(f"leverage must be an integer >= 1, got {leverage!r}")
        if trade_allowed is not None and not isinstance(trade_allowed, bool):
            raise ValueError(f"trade_allowed must be a bool, got {trade_allowed!r}")
        target = None if balance is None else _number("balance", balance, minimum=0.0)
        if margin_mode is not None:
            account.margin_mode = margin_mode
        if leverage is not None:
            account.leverage = leverage
        if trade_allowed is not None:
            account.trade_allowed = trade_allowed
        if target is not None and round(target - account.balance, 2):
            world.ledger.record_balance(target - account.balance, "Balance correction")
        world.broker.changes.account = True
        return self._account_summary()

    def cmd_set_algo_trading(self, enabled: bool) -> bool:
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be a bool, got {enabled!r}")
        self._t._world.algo_trading = enabled
        return self._t._trade_allowed

    # --- trades made elsewhere (another terminal, the trader by hand) ----------------------------------

    def _request(self, **values: Any) -> Any:
        try:
            return self._t._send(parse_request((values,), {}), with_faults=False)
        except CallError as exc:
            raise ValueError(exc.error[1]) from None

    def cmd_open_position(self, symbol: str, type: str, volume: float, sl: float = 0.0, tp: float = 0.0,  # noqa: A002
                          magic: int = 0, comment: str = "") -> dict[str, Any]:  # fmt: skip
        side = _SIDES.get(str(type).upper())
        if side is None:
            raise ValueError(f"type must be BUY or SELL, got {type!r}")
        spec = self._t._world.market.symbols[self._symbol(symbol)]
        result = self._request(
            action=c.TRADE_ACTION_DEAL, symbol=symbol, type=side, volume=_number("volume", volume),
            sl=_number("sl", sl), tp=_number("tp", tp), magic=magic, comment=comment,
            type_filling=c.ORDER_FILLING_FOK if spec.filling_mode & c.SYMBOL_FILLING_FOK else c.ORDER_FILLING_IOC,
        )  # fmt: skip
        return _result_dict(result)

    def cmd_close_position(self, ticket: int, volume: float | None = None) -> dict[str, Any]:
        position = self._t._world.broker.positions.get(ticket)
        if position is None:
            raise ValueError(f"no open position {ticket!r}")
        side = c.ORDER_TYPE_SELL if position.type == c.POSITION_TYPE_BUY else c.ORDER_TYPE_BUY
        spec = self._t._world.market.symbols[position.symbol]
        result = self._request(
            action=c.TRADE_ACTION_DEAL, symbol=position.symbol, type=side, position=ticket,
            volume=position.volume if volume is None else _number("volume", volume),
            type_filling=c.ORDER_FILLING_FOK if spec.filling_mode & c.SYMBOL_FILLING_FOK else c.ORDER_FILLING_IOC,
        )  # fmt: skip
        return _result_dict(result)

    def cmd_modify_position(self, ticket: int, sl: float | None = None, tp: float | None = None) -> dict[str, Any]:
        position = self._t._world.broker.positions.get(ticket)
        if position is None:
            raise ValueError(f"no open position {ticket!r}")
        result = self._request(
            action=c.TRADE_ACTION_SLTP, symbol=position.symbol, position=ticket,
            sl=position.sl if sl is None else _number("sl", sl), tp=position.tp if tp is None else _number("tp", tp),
        )  # fmt: skip
        return _result_dict(result)

    # --- overview --------------------------------------------------------------------------------------

    def _account_summary(self) -> dict[str, Any]:
        world = self._t._world
        account = world.broker.account
        figures = world.money.figures()
        return {
            "login": account.login, "margin_mode": account.margin_mode, "leverage": account.leverage,
            "trade_allowed": account.trade_allowed, **dataclasses.asdict(figures),
        }  # fmt: skip

    def cmd_state(self) -> dict[str, Any]:
        world = self._t._world
        broker = world.broker
        return {
            "connected": self._t._connected,
            "time": world.clock.now(),
            "speed": world.clock.speed,
            "positions": len(broker.positions),
            "orders": len(broker.orders),
            "history_orders": len(broker.history_orders),
            "deals": len(broker.deals),
            "algo_trading": self._t._trade_allowed,
            "account": self._account_summary(),
            "faults": self._t._faults.describe(),
        }
