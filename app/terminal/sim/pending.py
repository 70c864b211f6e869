"""Pending orders: placing, modifying and removing them (client requests), and the server's side of
their life: a stop-limit turning into a limit, an order filling when the price reaches it, expiring.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim import rules
from app.terminal.sim.broker import Broker
from app.terminal.sim.ledger import Fill, Ledger
from app.terminal.sim.money import Money
from app.terminal.sim.records import PendingOrder
from app.terminal.sim.verdict import PASSED, Verdict, refuse
from app.terminal.structs import TradeRequest

if TYPE_CHECKING:
    from app.terminal.sim.market.core import Market

logger = logging.getLogger(__name__)

_LIMIT_OF_STOP_LIMIT = {
    c.ORDER_TYPE_BUY_STOP_LIMIT: c.ORDER_TYPE_BUY_LIMIT,
    c.ORDER_TYPE_SELL_STOP_LIMIT: c.ORDER_TYPE_SELL_LIMIT,
}


class PendingDesk:
    def __init__(self, broker: Broker, market: Market, money: Money, ledger: Ledger) -> None:
        self._broker = broker
        self._market = market
        self._money = money
        self._ledger = ledger

    # --- client requests -------------------------------------------------------------------------------

    def place(self, request: TradeRequest, check: bool) -> Verdict:
        spec = self._market.symbols.get(request.symbol)
        if spec is None:
            return refuse(c.TRADE_RETCODE_INVALID)
        if request.type not in rules.PENDING_TYPES:
            return refuse(c.TRADE_RETCODE_INVALID_ORDER)
        checks = (
            rules.trade_mode_error(spec, request.type, opening=True),
            rules.volume_error(spec, request.volume),
            rules.filling_error(spec, request.type_filling, market=False),
            rules.expiration_error(request.type_time, request.expiration, self._ledger.now_msc() / 1000),
        )
        if retcode := next((code for code in checks if code), 0):
            return refuse(retcode)
        if len(self._broker.orders) >= self._broker.account.limit_orders:
            return refuse(c.TRADE_RETCODE_LIMIT_ORDERS)
        quote = self._market.quote(request.symbol)
        if retcode := rules.pending_price_error(spec, request.type, request.price, request.stoplimit,
                                                quote.bid, quote.ask):  # fmt: skip
            return refuse(retcode)
        entry = rules.entry_price(request.type, request.price, request.stoplimit)
        if retcode := rules.stops_error(spec, rules.is_buy(request.type), request.sl, request.tp, entry):
            return refuse(retcode)
        if check:
            return PASSED
        now = self._ledger.now_msc()
        order = PendingOrder(
            ticket=self._broker.new_order_ticket(), time_setup_msc=now,
            time_expiration=request.expiration if request.type_time in (c.ORDER_TIME_SPECIFIED,
                                                                        c.ORDER_TIME_SPECIFIED_DAY) else 0,
            type=request.type, type_time=request.type_time, type_filling=request.type_filling,
            state=c.ORDER_STATE_PLACED, magic=request.magic, position_id=0, reason=c.ORDER_REASON_EXPERT,
            volume_initial=request.volume, volume_current=request.volume, price_open=request.price,
            sl=request.sl, tp=request.tp,
            price_stoplimit=request.stoplimit if request.type in rules.STOP_LIMIT_TYPES else 0.0,
            symbol=request.symbol, comment=request.comment,
        )  # fmt: skip
        self._broker.add_order(order)
        return Verdict(retcode=c.TRADE_RETCODE_PLACED, order=order.ticket, volume=order.volume_initial,
                       price=order.price_open)  # fmt: skip

    def modify(self, request: TradeRequest, check: bool) -> Verdict:
        order = self._broker.orders.get(request.order)
        if order is None or (request.symbol and request.symbol != order.symbol):
            return refuse(c.TRADE_RETCODE_INVALID)
        spec = self._market.symbols[order.symbol]
        quote = self._market.quote(order.symbol)
        if rules.order_frozen(spec, order, quote.bid, quote.ask):
            return refuse(c.TRADE_RETCODE_FROZEN)
        stoplimit = request.stoplimit if order.type in rules.STOP_LIMIT_TYPES else 0.0
        expiration = request.expiration if request.type_time in (c.ORDER_TIME_SPECIFIED,
                                                                 c.ORDER_TIME_SPECIFIED_DAY) else 0  # fmt: skip
        new = (request.price, request.sl, request.tp, stoplimit, request.type_time, expiration)
        old = (order.price_open, order.sl, order.tp, order.price_stoplimit, order.type_time, order.time_expiration)
        if new == old:
            return refuse(c.TRADE_RETCODE_NO_CHANGES)
        if retcode := rules.pending_price_error(spec, order.type, request.price, stoplimit, quote.bid, quote.ask):
            return refuse(retcode)
        entry = rules.entry_price(order.type, request.price, stoplimit)
        if retcode := rules.stops_error(spec, rules.is_buy(order.type), request.sl, request.tp, entry):
            return refuse(retcode)
        if retcode := rules.expiration_error(request.type_time, request.expiration, self._ledger.now_msc() / 1000):
            return refuse(retcode)
        if check:
            return PASSED
        order.price_open, order.sl, order.tp, order.price_stoplimit, order.type_time, order.time_expiration = new
        self._broker.changed_order(order, order.type)
        return Verdict(retcode=c.TRADE_RETCODE_DONE, order=order.ticket, volume=order.volume_current,
                       price=order.price_open)  # fmt: skip

    def remove(self, request: TradeRequest, check: bool) -> Verdict:
        order = self._broker.orders.get(request.order)
        if order is None:
            return refuse(c.TRADE_RETCODE_INVALID)
        spec = self._market.symbols[order.symbol]
        quote = self._market.quote(order.symbol)
        if rules.order_frozen(spec, order, quote.bid, quote.ask):
            return refuse(c.TRADE_RETCODE_FROZEN)
        if check:
            return PASSED
        self.retire(order, c.ORDER_STATE_CANCELED)
        return Verdict(retcode=c.TRADE_RETCODE_DONE, order=order.ticket)

    # --- server side -----------------------------------------------------------------------------------

    def retire(self, order: PendingOrder, state: int) -> None:
        """Move a pending order to history unfilled (canceled, expired, rejected)."""
        self._broker.remove_order(order.ticket)
        self._broker.add_history_order(order.to_struct(order.price_open, state=state, done_msc=self._ledger.now_msc()))

    def trigger(self, order: PendingOrder, fill_price: float, at_msc: int = 0) -> None:
        """The market reached the order: a stop-limit becomes a limit order, anything else fills."""
        limit_type = _LIMIT_OF_STOP_LIMIT.get(order.type)
        if limit_type is not None:
            old_type = order.type
            order.type, order.price_open, order.price_stoplimit = limit_type, order.price_stoplimit, 0.0
            self._broker.changed_order(order, old_type)
            logger.info("stop-limit %d reached its stop: now a limit at %s", order.ticket, order.price_open)
            return
        spec = self._market.symbols[order.symbol]
        market_type = c.ORDER_TYPE_BUY if rules.is_buy(order.type) else c.ORDER_TYPE_SELL
        hedging = self._broker.account.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        current = None if hedging else self._broker.netting_position(order.symbol)
        if current is None or current.type == market_type:
            needed = self._money.margin(spec, order.volume_current, fill_price)
            if needed > self._money.free_margin():
                logger.info("pending order %d rejected on activation: not enough money", order.ticket)
                self.retire(order, c.ORDER_STATE_REJECTED)
                return
        self._broker.remove_order(order.ticket)
        fill = Fill(
            order=order.ticket, symbol=order.symbol, type=market_type, volume=order.volume_current,
            price=fill_price, magic=order.magic, comment=order.comment, reason=order.reason, sl=order.sl,
            tp=order.tp, type_filling=order.type_filling, type_time=order.type_time,
            setup_msc=order.time_setup_msc, requested_price=order.price_open, history_type=order.type,
            time_msc=at_msc,
        )  # fmt: skip
        deal = self._ledger.open(fill) if hedging else self._ledger.net(fill)
        logger.info("pending order %d filled at %s (deal %d)", order.ticket, fill_price, deal.ticket)
