"""``SimulatedTerminal``: a stand-in for the MetaTrader5 module, backed by a simulated broker and market.

An instance has the module's whole surface: its 32 functions with the same calling conventions and error
model, every exported constant, the eleven result types and ``__version__``, plus the undocumented
``Buy``/``Sell``/``Close`` helpers. Code written against the module runs unchanged against it::

    mt5 = SimulatedTerminal(data_dir=path, speed=10.0)
    mt5.initialize()
    mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "type": mt5.ORDER_TYPE_BUY})

On top of that, ``control(command, **kwargs)`` drives the simulated world (see ``control.py``).
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from app.terminal import structs
from app.terminal.constants import EXPORTED
from app.terminal.sim import codes, helpers
from app.terminal.sim import info as _info
from app.terminal.sim.calls_symbols import SymbolCalls
from app.terminal.sim.calls_trading import TradeCalls
from app.terminal.sim.codes import CallError
from app.terminal.sim.control import Controller
from app.terminal.sim.faults import FaultKind

logger = logging.getLogger(__name__)

_INITIALIZE_KEYS = {"path": str, "login": int, "password": str, "server": str, "timeout": int, "portable": bool}
_LOGIN_KEYS = ("login", "password", "server", "timeout")


class SimulatedTerminal(SymbolCalls, TradeCalls):
    __version__ = "5.0.6231"

    TradePosition = structs.TradePosition
    TradeOrder = structs.TradeOrder
    TradeDeal = structs.TradeDeal
    Tick = structs.Tick
    SymbolInfo = structs.SymbolInfo
    AccountInfo = structs.AccountInfo
    TerminalInfo = structs.TerminalInfo
    OrderSendResult = structs.OrderSendResult
    OrderCheckResult = structs.OrderCheckResult
    TradeRequest = structs.TradeRequest
    BookInfo = structs.BookInfo

    @cached_property
    def _controller(self) -> Controller:
        return Controller(self)

    # --- connection ------------------------------------------------------------------------------------

    def _check_account(self, login: Any, password: Any, server: Any) -> None:
        account = self._world.broker.account
        wrong_login = login is not None and login != account.login
        wrong_password = password is not None and account.password and password != account.password
        wrong_server = server is not None and server != account.server
        if wrong_login or wrong_password or wrong_server:
            raise CallError(codes.AUTH_FAILED)

    def initialize(self, *args: Any, **kwargs: Any) -> bool:
        """``initialize(path=None, *, login, password, server, timeout, portable)``."""
        for name in kwargs:
            if name not in _INITIALIZE_KEYS:
                raise TypeError(f"'{name}' is an invalid keyword argument for initialize()")

        def body() -> bool:
            if len(args) > 1 or (args and "path" in kwargs):
                raise CallError(codes.INVALID_COUNT)
            values = dict(kwargs, **({"path": args[0]} if args else {}))
            for name, value in values.items():
                kind = _INITIALIZE_KEYS[name]
                if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
                    raise CallError(codes.invalid_key(name))
            self._connected = False  # the call drops any existing connection first
            if self._faults.take_failing_initialize():
                raise CallError(codes.IPC_TIMEOUT)
            self._check_account(values.get("login"), values.get("password"), values.get("server"))
            self._connected = True
            logger.info("simulated terminal connected (account %d)", self._world.broker.account.login)
            return True

        return self._call("initialize", False, body, needs_connection=False)

    def login(self, *args: Any, **kwargs: Any) -> bool:
        """``login(login, password=None, server=None, *, timeout=60000)``."""
        for name in kwargs:
            if name not in _LOGIN_KEYS:
                raise TypeError(f"'{name}' is an invalid keyword argument for login()")

        def body() -> bool:
            if len(args) > 3:
                raise CallError(codes.INVALID_COUNT)
            values = dict(zip(_LOGIN_KEYS, args, strict=False))
            for name, value in kwargs.items():
                if name in values:
                    raise CallError(codes.INVALID_ARGUMENTS)
                values[name] = value
            if "login" not in values or isinstance(values["login"], bool) or not isinstance(values["login"], int):
                raise CallError(codes.invalid_key("login"))
            for name in ("password", "server"):
                if values.get(name) is not None and not isinstance(values[name], str):
                    raise CallError(codes.invalid_key(name))
            self._check_account(values["login"], values.get("password"), values.get("server"))
            return True

        return self._call("login", False, body)

    def shutdown(self) -> bool:
        def body() -> bool:
            self._lose_connection("shutdown")
            self._persist(market=True)
            return True

        return self._call("shutdown", True, body, needs_connection=False)

    def version(self) -> tuple[int, int, str] | None:
        return self._call("version", None, lambda: (500, _info.TERMINAL_BUILD, _info.TERMINAL_RELEASE))

    def last_error(self) -> tuple[int, str]:
        return self._last_error

    def account_info(self) -> structs.AccountInfo | None:
        trade_expert = not self._faults.active(FaultKind.ACCOUNT_TRADING_OFF)
        return self._call("account_info", None, lambda: self._world.views.account_info(trade_expert=trade_expert))

    def terminal_info(self) -> structs.TerminalInfo | None:
        return self._call(
            "terminal_info", None,
            lambda: self._world.views.terminal_info(
                algo_trading=self._trade_allowed, data_dir=self._data_dir,
                connected=not self._faults.active(FaultKind.BROKER_LINK_LOST)),
        )  # fmt: skip

    # --- the module's undocumented helpers -------------------------------------------------------------

    def Buy(  # noqa: N802 - the module's own name
        self, symbol: str, volume: Any, price: Any = None, *, comment: Any = None, ticket: Any = None
    ) -> Any:
        return helpers.buy(self, symbol, volume, price, comment=comment, ticket=ticket)

    def Sell(  # noqa: N802 - the module's own name
        self, symbol: str, volume: Any, price: Any = None, *, comment: Any = None, ticket: Any = None
    ) -> Any:
        return helpers.sell(self, symbol, volume, price, comment=comment, ticket=ticket)

    def Close(self, symbol: str, *, comment: Any = None, ticket: Any = None) -> Any:  # noqa: N802
        return helpers.close(self, symbol, comment=comment, ticket=ticket)

    # --- the simulated world ---------------------------------------------------------------------------

    def control(self, command: str, **kwargs: Any) -> Any:
        """Run a control command (set_price, advance, inject_fault, open_position, state, ...)."""
        with self._lock:
            return self._controller.run(command, kwargs)


for _name, _value in EXPORTED.items():
    setattr(SimulatedTerminal, _name, _value)
