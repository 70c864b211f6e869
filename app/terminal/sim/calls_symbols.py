"""Module calls about symbols and prices: symbols_*, symbol_*, market_book_*, copy_rates_*, copy_ticks_*.

Rates and ticks come from the simulated market; the functions here only read arguments the module's way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.terminal import constants as c
from app.terminal.sim import args as a
from app.terminal.sim import codes
from app.terminal.sim.codes import CallError
from app.terminal.sim.core import TerminalCore
from app.terminal.sim.faults import FaultKind
from app.terminal.structs import BookInfo, SymbolInfo, Tick

_BOOK_DEPTH = 5


class SymbolCalls(TerminalCore):
    def _known(self, symbol: str) -> str:
        if symbol not in self._world.market.symbols:
            raise CallError(codes.NOT_FOUND)
        return symbol

    def _loaded(self, symbol: str) -> str:
        """A known symbol whose history the terminal has (a first request may find it still downloading)."""
        self._known(symbol)
        if self._faults.take_history_miss(symbol):
            raise CallError(codes.CALL_FAILED)
        return symbol

    def _market_call(self, compute: Any) -> np.ndarray | None:
        try:
            return compute()
        except ValueError as exc:  # a timeframe, count or range the market refuses
            raise CallError(codes.TERMINAL_INVALID_PARAMS) from exc

    # --- symbols ---------------------------------------------------------------------------------------

    def symbols_total(self) -> int | None:
        return self._call("symbols_total", None, lambda: len(self._world.market.symbols))

    def symbols_get(self, *args: Any, **kwargs: Any) -> tuple[SymbolInfo, ...] | None:
        def body() -> tuple[SymbolInfo, ...]:
            a.only_keywords("symbols_get", kwargs, ("group",))
            if len(args) + len(kwargs) > 1:
                raise CallError(codes.INVALID_COUNT, result=False)
            group = args[0] if args else kwargs.get("group")
            if group is not None and (not isinstance(group, str) or len(group) >= 1999):
                raise CallError(codes.invalid_key("group"), result=False)
            names = list(self._world.market.symbols)
            if group is not None:
                matches = a.group_matcher(group)
                names = [name for name in names if matches(name)]
            views = self._world.views
            return tuple(views.symbol_info(name, selected=name not in self._world.hidden) for name in names)

        return self._call("symbols_get", None, body)

    def symbol_info(self, *args: Any, **kwargs: Any) -> SymbolInfo | None:
        a.no_keywords("symbol_info", kwargs)

        def body() -> SymbolInfo:
            a.count(args, 1)
            name = self._known(a.symbol(args[0], 0))
            return self._world.views.symbol_info(name, selected=name not in self._world.hidden)

        return self._call("symbol_info", None, body)

    def symbol_info_tick(self, *args: Any, **kwargs: Any) -> Tick | None:
        a.no_keywords("symbol_info_tick", kwargs)

        def body() -> Tick:
            a.count(args, 1)
            name = self._known(a.symbol(args[0], 0))
            if name in self._world.hidden:  # outside Market Watch the terminal has no tick for it
                raise CallError(codes.CALL_FAILED)
            if self._faults.active(FaultKind.BROKER_LINK_LOST):
                return self._frozen_tick(name)
            return self._world.views.tick(name)

        return self._call("symbol_info_tick", None, body)

    def symbol_select(self, *args: Any, **kwargs: Any) -> bool:
        a.no_keywords("symbol_select", kwargs)

        def body() -> bool:
            a.count(args, 1, 2)
            name = self._known(a.parsed_symbol("symbol_select", args[0]))
            enable = args[1] if len(args) > 1 else True
            if not isinstance(enable, bool | int):
                raise a.parser_type_error("symbol_select", "argument 2 must be bool")
            world = self._world
            was_hidden = name in world.hidden
            if enable:
                world.hidden.discard(name)
            elif world.broker.by_symbol.get(name) or any(o.symbol == name for o in world.broker.orders.values()):
                raise CallError(codes.CALL_FAILED)  # a symbol with open positions or orders stays visible
            else:
                world.hidden.add(name)
            if was_hidden != (name in world.hidden):
                self._persist(settings=True)
            return True

        return self._call("symbol_select", False, body)

    # --- depth of market -------------------------------------------------------------------------------

    def market_book_add(self, *args: Any, **kwargs: Any) -> bool | None:
        a.no_keywords("market_book_add", kwargs)

        def body() -> bool:
            a.count(args, 1)
            symbol = a.symbol(args[0], 0)
            if symbol not in self._world.market.symbols:
                raise CallError(codes.NOT_FOUND, result=False)
            self._books.add(symbol)
            return True

        return self._call("market_book_add", None, body)

    def market_book_release(self, *args: Any, **kwargs: Any) -> bool | None:
        a.no_keywords("market_book_release", kwargs)

        def body() -> bool:
            a.count(args, 1)
            symbol = a.symbol(args[0], 0)
            if symbol not in self._books:
                raise CallError(codes.CALL_FAILED, result=False)
            self._books.discard(symbol)
            return True

        return self._call("market_book_release", None, body)

    def market_book_get(self, *args: Any, **kwargs: Any) -> tuple[BookInfo, ...] | None:
        """A synthetic depth of five levels a side around the quote, sell side first, prices descending."""
        a.no_keywords("market_book_get", kwargs)

        def body() -> tuple[BookInfo, ...]:
            a.count(args, 1)
            symbol = a.symbol(args[0], 0)
            if symbol not in self._books:
                raise CallError(codes.CALL_FAILED)
            spec = self._world.market.symbols[symbol]
            quote = self._world.market.quote(symbol)
            step = max(spec.spread_points, 1) * spec.point
            levels = []
            for i in reversed(range(_BOOK_DEPTH)):
                volume = (i + 1) * 10
                levels.append(BookInfo(c.BOOK_TYPE_SELL, round(quote.ask + i * step, spec.digits), volume,
                                       float(volume)))  # fmt: skip
            for i in range(_BOOK_DEPTH):
                volume = (i + 1) * 10
                levels.append(BookInfo(c.BOOK_TYPE_BUY, round(quote.bid - i * step, spec.digits), volume,
                                       float(volume)))  # fmt: skip
            return tuple(levels)

        return self._call("market_book_get", None, body)

    # --- rates and ticks -------------------------------------------------------------------------------

    def copy_rates_from(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        a.no_keywords("copy_rates_from", kwargs)

        def body() -> np.ndarray | None:
            a.count(args, 4)
            name = "copy_rates_from"
            symbol = self._loaded(a.parsed_symbol(name, args[0]))
            timeframe, date_from = a.parsed_int(name, args[1], 1), a.date(args[2], 2)
            count = a.parsed_int(name, args[3], 3)
            market = self._world.market
            return self._market_call(lambda: market.rates_from(symbol, timeframe, date_from, count))

        return self._call("copy_rates_from", None, body)

    def copy_rates_from_pos(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        a.no_keywords("copy_rates_from_pos", kwargs)

        def body() -> np.ndarray | None:
            a.count(args, 4)
            name = "copy_rates_from_pos"
            symbol = self._loaded(a.parsed_symbol(name, args[0]))
            timeframe, start = a.parsed_int(name, args[1], 1), a.parsed_int(name, args[2], 2)
            count = a.parsed_int(name, args[3], 3)
            market = self._world.market
            return self._market_call(lambda: market.rates_from_pos(symbol, timeframe, start, count))

        return self._call("copy_rates_from_pos", None, body)

    def copy_rates_range(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        a.no_keywords("copy_rates_range", kwargs)

        def body() -> np.ndarray | None:
            a.count(args, 4)
            name = "copy_rates_range"
            symbol = self._loaded(a.parsed_symbol(name, args[0]))
            timeframe = a.parsed_int(name, args[1], 1)
            date_from, date_to = a.date(args[2], 2), a.date(args[3], 3)
            market = self._world.market
            return self._market_call(lambda: market.rates_range(symbol, timeframe, date_from, date_to))

        return self._call("copy_rates_range", None, body)

    def copy_ticks_from(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        a.no_keywords("copy_ticks_from", kwargs)

        def body() -> np.ndarray | None:
            a.count(args, 4)
            name = "copy_ticks_from"
            symbol = self._known(a.parsed_symbol(name, args[0]))
            date_from = a.date(args[1], 1)
            count, flags = a.parsed_int(name, args[2], 2), a.parsed_int(name, args[3], 3)
            market = self._world.market
            return self._market_call(lambda: market.ticks_from(symbol, date_from, count, flags))

        return self._call("copy_ticks_from", None, body)

    def copy_ticks_range(self, *args: Any, **kwargs: Any) -> np.ndarray | None:
        a.no_keywords("copy_ticks_range", kwargs)

        def body() -> np.ndarray | None:
            a.count(args, 4)
            name = "copy_ticks_range"
            symbol = self._known(a.parsed_symbol(name, args[0]))
            date_from, date_to = a.date(args[1], 1), a.date(args[2], 2)
            flags = a.parsed_int(name, args[3], 3)
            market = self._world.market
            return self._market_call(lambda: market.ticks_range(symbol, date_from, date_to, flags))

        return self._call("copy_ticks_range", None, body)
