"""The trade server's answer to a request: market deals (open, close, partial close, netting), SL/TP
changes and close-by; pending orders are handled in ``pending``.

``process(request, check=True)`` runs every rule without changing anything (order_check); with
``check=False`` it executes (order_send). Either way the verdict is a retcode, never an exception.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim import rules
from app.terminal.sim.broker import Broker
from app.terminal.sim.ledger import Fill, Ledger, opposite
from app.terminal.sim.money import Money
from app.terminal.sim.pending import PendingDesk
from app.terminal.sim.records import Position
from app.terminal.sim.verdict import PASSED, Verdict, refuse
from app.terminal.structs import TradeRequest

if TYPE_CHECKING:
    from app.terminal.sim.market.core import Market
    from app.terminal.sim.symbols import SymbolSpec

logger = logging.getLogger(__name__)


class TradeServer:
    def __init__(self, broker: Broker, market: Market, money: Money, ledger: Ledger) -> None:
        self._broker = broker
        self._market = market
        self._money = money
        self._ledger = ledger
        self.pending = PendingDesk(broker, market, money, ledger)

    def process(self, request: TradeRequest, *, check: bool) -> Verdict:
        if not self._broker.account.trade_allowed:
            return refuse(c.TRADE_RETCODE_TRADE_DISABLED)
        action = request.action
        if action == c.TRADE_ACTION_DEAL:
            return self._deal(request, check)
        if action == c.TRADE_ACTION_SLTP:
            return self._sltp(request, check)
        if action == c.TRADE_ACTION_CLOSE_BY:
            return self._close_by(request, check)
        if action == c.TRADE_ACTION_PENDING:
            return self.pending.place(request, check)
        if action == c.TRADE_ACTION_MODIFY:
            return self.pending.modify(request, check)
        if action == c.TRADE_ACTION_REMOVE:
            return self.pending.remove(request, check)
        return refuse(c.TRADE_RETCODE_INVALID)

    @property
    def hedging(self) -> bool:
        return self._broker.account.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING

    def _missing_position(self, ticket: int) -> Verdict:
        closed = self._broker.was_closed(ticket)
        return refuse(c.TRADE_RETCODE_POSITION_CLOSED if closed else c.TRADE_RETCODE_INVALID)

    # --- market deals ----------------------------------------------------------------------------------

    def _deal(self, request: TradeRequest, check: bool) -> Verdict:
        spec = self._market.symbols.get(request.symbol)
        if spec is None:
            return refuse(c.TRADE_RETCODE_INVALID)
        if request.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            return refuse(c.TRADE_RETCODE_INVALID_ORDER)
        target: Position | None = None
        if self.hedging:
            if request.position:
                target = self._broker.positions.get(request.position)
                if target is None:
                    return self._missing_position(request.position)
                if target.symbol != request.symbol or target.type == request.type:
                    return refuse(c.TRADE_RETCODE_INVALID)
        else:
            current = self._broker.netting_position(request.symbol)
            if request.position and (current is None or current.ticket != request.position):
                return self._missing_position(request.position)
            if current is not None and current.type != request.type:
                target = current
        closing = target is not None
        verdict = self._deal_rules(spec, request, target, closing)
        if verdict is not None:
            return verdict
        quote = self._market.quote(request.symbol)
        price = quote.ask if request.type == c.ORDER_TYPE_BUY else quote.bid
        margin_change = self._margin_change(spec, request, target, price)
        if margin_change > 0 and self._money.free_margin() < margin_change:
            return refuse(c.TRADE_RETCODE_NO_MONEY)
        if check:
            return Verdict(retcode=PASSED.retcode, margin_change=margin_change)
        fill = Fill(
            order=self._broker.new_order_ticket(), symbol=request.symbol, type=request.type,
            volume=request.volume, price=price, magic=request.magic, comment=request.comment,
            sl=request.sl, tp=request.tp, type_filling=request.type_filling, type_time=request.type_time,
            requested_price=request.price,
        )  # fmt: skip
        if self.hedging:
            deal = self._ledger.close(target, fill) if target is not None else self._ledger.open(fill)
        else:
            deal = self._ledger.net(fill)
        logger.debug("deal %d: %s %s %.2f @ %s", deal.ticket, request.symbol, request.type, request.volume, price)
        return Verdict(retcode=c.TRADE_RETCODE_DONE, deal=deal.ticket, order=fill.order,
                       volume=request.volume, price=price)  # fmt: skip

    def _deal_rules(
        self, spec: SymbolSpec, request: TradeRequest, target: Position | None, closing: bool
    ) -> Verdict | None:
        """Every broker rule a market deal must pass, in the server's order; None when all pass."""
        reversing = closing and not request.position and request.volume > target.volume  # type: ignore[union-attr]
        retcode = rules.trade_mode_error(spec, request.type, opening=not closing or reversing)
        if retcode:
            return refuse(retcode)
        if retcode := rules.volume_error(spec, request.volume):
            return refuse(retcode)
        if closing and request.position and request.volume > target.volume + 1e-9:  # type: ignore[union-attr]
            return refuse(c.TRADE_RETCODE_INVALID_CLOSE_VOLUME)
        if retcode := rules.filling_error(spec, request.type_filling, market=True):
            return refuse(retcode)
        if request.price and not rules.on_grid(request.price, spec.trade_tick_size):
            return refuse(c.TRADE_RETCODE_INVALID_PRICE)
        quote = self._market.quote(request.symbol)
        market_price = quote.ask if request.type == c.ORDER_TYPE_BUY else quote.bid
        if rules.deviation_exceeded(spec, request.price, market_price, request.deviation):
            return refuse(c.TRADE_RETCODE_REQUOTE)
        if closing and rules.position_frozen(spec, target, quote.bid, quote.ask):  # type: ignore[arg-type]
            return refuse(c.TRADE_RETCODE_FROZEN)
        if not closing or reversing:
            buy = request.type == c.ORDER_TYPE_BUY
            reference = quote.bid if buy else quote.ask
            if retcode := rules.stops_error(spec, buy, request.sl, request.tp, reference):
                return refuse(retcode)
        return None

    def _margin_change(self, spec: SymbolSpec, request: TradeRequest, target: Position | None, price: float) -> float:
        if target is None:
            return self._money.margin(spec, request.volume, price)
        freed = self._money.margin(spec, min(request.volume, target.volume), price)
        added = self._money.margin(spec, max(request.volume - target.volume, 0.0), price)
        return added - freed if not request.position else -freed

    # --- SL/TP -----------------------------------------------------------------------------------------

    def _sltp(self, request: TradeRequest, check: bool) -> Verdict:
        position = self._broker.positions.get(request.position)
        if position is None:
            return self._missing_position(request.position)
        if request.symbol != position.symbol:
            return refuse(c.TRADE_RETCODE_INVALID)
        if request.sl == position.sl and request.tp == position.tp:
            return refuse(c.TRADE_RETCODE_NO_CHANGES)
        spec = self._market.symbols[position.symbol]
        if spec.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED:
            return refuse(c.TRADE_RETCODE_TRADE_DISABLED)
        quote = self._market.quote(position.symbol)
        if rules.position_frozen(spec, position, quote.bid, quote.ask):
            return refuse(c.TRADE_RETCODE_FROZEN)
        buy = position.type == c.POSITION_TYPE_BUY
        if retcode := rules.stops_error(spec, buy, request.sl, request.tp, quote.bid if buy else quote.ask):
            return refuse(retcode)
        if check:
            return PASSED
        self._broker.update_position(position, time_msc=self._ledger.now_msc(), sl=request.sl, tp=request.tp)
        return Verdict(retcode=c.TRADE_RETCODE_DONE)

    # --- close by --------------------------------------------------------------------------------------

    def _close_by(self, request: TradeRequest, check: bool) -> Verdict:
        if not self.hedging:
            return refuse(c.TRADE_RETCODE_INVALID)
        position = self._broker.positions.get(request.position)
        if position is None:
            return self._missing_position(request.position)
        other = self._broker.positions.get(request.position_by)
        if other is None:
            return self._missing_position(request.position_by)
        if (
            other.symbol != position.symbol
            or other.type == position.type
            or (request.symbol and request.symbol != position.symbol)
        ):
            return refuse(c.TRADE_RETCODE_INVALID)
        spec = self._market.symbols[position.symbol]
        if spec.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED:
            return refuse(c.TRADE_RETCODE_TRADE_DISABLED)
        quote = self._market.quote(position.symbol)
        if any(rules.position_frozen(spec, p, quote.bid, quote.ask) for p in (position, other)):
            return refuse(c.TRADE_RETCODE_FROZEN)
        volume = min(position.volume, other.volume)
        if check:
            freed = self._money.margin(spec, volume, quote.bid) + self._money.margin(spec, volume, quote.ask)
            return Verdict(retcode=PASSED.retcode, margin_change=-freed)
        ticket = self._broker.new_order_ticket()
        base = Fill(order=ticket, symbol=position.symbol, type=opposite(position.type), volume=volume,
                    price=other.price_open, magic=request.magic, comment=request.comment)  # fmt: skip
        self._ledger.record_order(base, position_id=position.ticket, position_by=other.ticket,
                                  order_type=c.ORDER_TYPE_CLOSE_BY)  # fmt: skip
        deal = self._ledger.close(position, base, entry=c.DEAL_ENTRY_OUT_BY, record_order=False)
        other_fill = Fill(order=ticket, symbol=other.symbol, type=position.type, volume=volume,
                          price=other.price_open, magic=request.magic, comment=request.comment)  # fmt: skip
        self._ledger.close(other, other_fill, entry=c.DEAL_ENTRY_OUT_BY, record_order=False)
        return Verdict(retcode=c.TRADE_RETCODE_DONE, deal=deal.ticket, order=ticket, volume=volume,
                       price=other.price_open)  # fmt: skip
