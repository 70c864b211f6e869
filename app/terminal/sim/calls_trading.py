"""Module calls about trading: positions, pending orders, margin and profit, order_check, order_send,
and trade history.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.terminal import constants as c
from app.terminal.sim import args as a
from app.terminal.sim import codes
from app.terminal.sim import history as h
from app.terminal.sim.codes import CallError
from app.terminal.sim.core import TerminalCore
from app.terminal.sim.faults import FaultKind
from app.terminal.sim.requests import parse_request
from app.terminal.sim.verdict import refuse
from app.terminal.structs import (
    OrderCheckResult,
    OrderSendResult,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

_FILTERS = ("symbol", "group", "ticket")
#: Terminal states in which the request reaches no trade server, with the retcode the terminal answers.
_REFUSING_STATES = (
    (FaultKind.ALGO_TRADING_OFF, c.TRADE_RETCODE_CLIENT_DISABLES_AT),
    (FaultKind.ACCOUNT_TRADING_OFF, c.TRADE_RETCODE_SERVER_DISABLES_AT),
    (FaultKind.BROKER_LINK_LOST, c.TRADE_RETCODE_CONNECTION),
)


class TradeCalls(TerminalCore):
    # --- open positions and orders ---------------------------------------------------------------------

    def positions_total(self) -> int | None:
        return self._call("positions_total", None, lambda: len(self._world.broker.positions))

    def orders_total(self) -> int | None:
        return self._call("orders_total", None, lambda: len(self._world.broker.orders))

    def positions_get(self, *args: Any, **kwargs: Any) -> tuple[TradePosition, ...] | None:
        a.only_keywords("positions_get", kwargs, _FILTERS)
        return self._call("positions_get", None, lambda: self._filtered(self._world.views.positions, args, kwargs))

    def orders_get(self, *args: Any, **kwargs: Any) -> tuple[TradeOrder, ...] | None:
        a.only_keywords("orders_get", kwargs, _FILTERS)
        return self._call("orders_get", None, lambda: self._filtered(self._world.views.orders, args, kwargs))

    @staticmethod
    def _filtered(view: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Keyword filters only, by precedence: ticket, then symbol, then group, otherwise everything."""
        if args:
            raise CallError(codes.UNNAMED_NOT_ALLOWED)
        if "ticket" in kwargs:
            return view([a.keyword_ticket(kwargs["ticket"])])
        if "symbol" in kwargs:
            symbol = a.keyword_symbol(kwargs["symbol"])
            return view(symbols=symbol.__eq__)
        if "group" in kwargs:
            return view(symbols=a.keyword_group(kwargs["group"]))
        return view()

    # --- margin and profit -----------------------------------------------------------------------------

    def order_calc_margin(self, *args: Any, **kwargs: Any) -> float | None:
        a.no_keywords("order_calc_margin", kwargs)

        def body() -> float:
            a.count(args, 4)
            name = "order_calc_margin"
            action = a.parsed_int(name, args[0], 0)
            symbol = a.parsed_symbol(name, args[1])
            volume, price = a.parsed_float(name, args[2], 2), a.parsed_float(name, args[3], 3)
            spec = self._world.market.symbols.get(symbol)
            if spec is None:
                raise CallError(codes.NOT_FOUND)
            if action not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL) or volume <= 0 or price <= 0:
                raise CallError(codes.TERMINAL_INVALID_PARAMS)
            return round(self._world.money.margin(spec, volume, price), 2)

        return self._call("order_calc_margin", None, body)

    def order_calc_profit(self, *args: Any, **kwargs: Any) -> float | None:
        a.no_keywords("order_calc_profit", kwargs)

        def body() -> float:
            a.count(args, 5)
            name = "order_calc_profit"
            action = a.parsed_int(name, args[0], 0)
            symbol = a.parsed_symbol(name, args[1])
            volume = a.parsed_float(name, args[2], 2)
            price_open, price_close = a.parsed_float(name, args[3], 3), a.parsed_float(name, args[4], 4)
            spec = self._world.market.symbols.get(symbol)
            if spec is None:
                raise CallError(codes.NOT_FOUND)
            if action not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL) or volume <= 0:
                raise CallError(codes.TERMINAL_INVALID_PARAMS)
            return round(self._world.money.profit(spec, action, volume, price_open, price_close), 2)

        return self._call("order_calc_profit", None, body)

    # --- requests --------------------------------------------------------------------------------------

    def order_check(self, *args: Any, **kwargs: Any) -> OrderCheckResult | None:
        def body() -> OrderCheckResult:
            request = parse_request(args, kwargs)
            world = self._world
            verdict = world.trades.process(request, check=True)
            figures = world.money.figures(extra_margin=verdict.margin_change if verdict.retcode == 0 else 0.0)
            return OrderCheckResult(
                verdict.retcode, figures.balance, figures.equity, figures.profit, figures.margin,
                figures.margin_free, figures.margin_level, verdict.comment, request,
            )  # fmt: skip

        return self._call("order_check", None, body)

    def order_send(self, *args: Any, **kwargs: Any) -> OrderSendResult | None:
        def body() -> OrderSendResult:
            request = parse_request(args, kwargs)
            if not self._world.algo_trading or self._faults.algo_disabled:
                raise CallError(codes.ALGO_DISABLED)
            for state, retcode in _REFUSING_STATES:
                if self._faults.active(state):
                    return self._refused(request, retcode)
            return self._send(request, with_faults=True)

        return self._call("order_send", None, body)

    def _send(self, request: TradeRequest, *, with_faults: bool) -> OrderSendResult:
        """The server's verdict as the module returns it; a retcode fault may replace (or, for an executed
        10012, hide) the real answer."""
        world = self._world
        fault = self._faults.take_retcode(request.action) if with_faults else None
        if fault is not None and not fault.executed:
            verdict = refuse(fault.retcode)
        elif with_faults and request.action == c.TRADE_ACTION_DEAL and self._faults.partial_fills:
            verdict = self._partial_fill(request)
        else:
            verdict = world.trades.process(request, check=False)
            if fault is not None:
                verdict = refuse(fault.retcode)
        bid = ask = 0.0
        if request.symbol in world.market.symbols:
            quote = world.market.quote(request.symbol)
            bid, ask = quote.bid, quote.ask
        return OrderSendResult(
            verdict.retcode, verdict.deal, verdict.order, verdict.volume, verdict.price, bid, ask,
            verdict.comment, world.broker.new_request_id(), 0, request,
        )  # fmt: skip

    def _refused(self, request: TradeRequest, retcode: int) -> OrderSendResult:
        verdict = refuse(retcode)
        return OrderSendResult(
            verdict.retcode, 0, 0, 0.0, 0.0, 0.0, 0.0, verdict.comment, self._world.broker.new_request_id(), 0, request
        )

    def _partial_fill(self, request: TradeRequest) -> Any:
        """Not enough volume at the price: IOC fills what there is and cancels the rest; RETURN (exchange
        execution) fills what there is too (a real exchange would leave the rest as an order; the simulator
        cancels it); FOK, the only policy under instant and request execution, fills nothing."""
        world = self._world
        spec = world.market.symbols.get(request.symbol)
        if spec is None:
            return world.trades.process(request, check=False)
        check = world.trades.process(request, check=True)
        if check.retcode != 0:  # refused anyway: the liquidity shortage does not matter
            return world.trades.process(request, check=False)
        fraction = self._faults.take_partial_fill() or 1.0
        fok = request.type_filling == c.ORDER_FILLING_FOK or spec.trade_exemode in (
            c.SYMBOL_TRADE_EXECUTION_REQUEST,
            c.SYMBOL_TRADE_EXECUTION_INSTANT,
        )
        steps = int(request.volume * fraction / spec.volume_step + 1e-9)
        filled = round(steps * spec.volume_step, 8)
        if fok or filled < spec.volume_min:
            return refuse(c.TRADE_RETCODE_REJECT)
        verdict = world.trades.process(request._replace(volume=filled), check=False)
        if verdict.retcode != c.TRADE_RETCODE_DONE:
            return verdict
        return dataclasses.replace(verdict, retcode=c.TRADE_RETCODE_DONE_PARTIAL)

    # --- history ---------------------------------------------------------------------------------------

    def history_orders_total(self, *args: Any, **kwargs: Any) -> int | None:
        def body() -> int:
            date_from, date_to = h.range_total(args)
            return h.orders_total(self._world.broker, date_from, date_to)

        a.no_keywords("history_orders_total", kwargs)
        return self._call("history_orders_total", None, body)

    def history_deals_total(self, *args: Any, **kwargs: Any) -> int | None:
        def body() -> int:
            date_from, date_to = h.range_total(args)
            return h.deals_total(self._world.broker, date_from, date_to)

        a.no_keywords("history_deals_total", kwargs)
        return self._call("history_deals_total", None, body)

    def history_orders_get(self, *args: Any, **kwargs: Any) -> tuple[TradeOrder, ...] | None:
        a.only_keywords("history_orders_get", kwargs, h.KEYWORDS)
        return self._call(
            "history_orders_get", None,
            lambda: h.history_orders(self._world.broker, h.HistoryQuery(args, kwargs)),
        )  # fmt: skip

    def history_deals_get(self, *args: Any, **kwargs: Any) -> tuple[TradeDeal, ...] | None:
        a.only_keywords("history_deals_get", kwargs, h.KEYWORDS)
        return self._call(
            "history_deals_get", None,
            lambda: h.history_deals(self._world.broker, h.HistoryQuery(args, kwargs)),
        )  # fmt: skip
