"""The trade server's own work between client calls: stops, take profits, pending orders reaching their
price, expirations.

``catch_up()`` brings the market to the clock's now and acts on every level the prices touched in
between, so an SL hit while nobody was calling is executed at the next call. A level jumped over (a gap,
or a scripted price set beyond it) fills at the first price on the far side, as a live server does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim.broker import Broker
from app.terminal.sim.ledger import Fill, Ledger, opposite
from app.terminal.sim.pending import PendingDesk
from app.terminal.sim.triggers import TriggerKind

if TYPE_CHECKING:
    from app.terminal.sim.clock import SimClock
    from app.terminal.sim.market import Market

logger = logging.getLogger(__name__)

_STOP_KINDS = {
    TriggerKind.BUY_SL: c.ORDER_REASON_SL,
    TriggerKind.SELL_SL: c.ORDER_REASON_SL,
    TriggerKind.BUY_TP: c.ORDER_REASON_TP,
    TriggerKind.SELL_TP: c.ORDER_REASON_TP,
}
_ON_ASK = frozenset({TriggerKind.SELL_SL, TriggerKind.SELL_TP, TriggerKind.BUY_LIMIT, TriggerKind.BUY_STOP})

Range = tuple[float, float, float, float]  # low bid, high bid, low ask, high ask


class ServerLoop:
    def __init__(self, broker: Broker, market: Market, clock: SimClock, ledger: Ledger, desk: PendingDesk) -> None:
        self._broker = broker
        self._market = market
        self._clock = clock
        self._ledger = ledger
        self._desk = desk

    def catch_up(self) -> None:
        ranges: dict[str, Range] = {
            symbol: (low_bid, high_bid, low_ask, high_ask)
            for symbol, low_bid, high_bid, low_ask, high_ask in self._market.advance_to_now()
        }
        for symbol in self._broker.triggers.symbols():
            if symbol not in self._market.symbols:
                continue
            span = self._with_current(symbol, ranges.get(symbol))
            for kind, ticket, level in self._broker.triggers.touched(symbol, *span):
                fill_price = _fill_price(kind, level, span)
                if kind in _STOP_KINDS:
                    self._stop_out(kind, ticket, level, fill_price)
                else:
                    order = self._broker.orders.get(ticket)
                    if order is not None:
                        self._desk.trigger(order, fill_price)
        for ticket in self._broker.triggers.expired(self._clock.now()):
            order = self._broker.orders.get(ticket)
            if order is not None:
                logger.info("pending order %d expired", ticket)
                self._desk.retire(order, c.ORDER_STATE_EXPIRED)

    def _with_current(self, symbol: str, span: Range | None) -> Range:
        """The range widened to the current quote, which a scripted price may have just set."""
        quote = self._market.quote(symbol)
        if span is None:
            return (quote.bid, quote.bid, quote.ask, quote.ask)
        low_bid, high_bid, low_ask, high_ask = span
        return (min(low_bid, quote.bid), max(high_bid, quote.bid), min(low_ask, quote.ask), max(high_ask, quote.ask))

    def _stop_out(self, kind: TriggerKind, ticket: int, level: float, fill_price: float) -> None:
        position = self._broker.positions.get(ticket)
        if position is None:
            return
        reason = _STOP_KINDS[kind]
        digits = self._market.symbols[position.symbol].digits
        tag = "sl" if reason == c.ORDER_REASON_SL else "tp"
        fill = Fill(
            order=self._broker.new_order_ticket(), symbol=position.symbol, type=opposite(position.type),
            volume=position.volume, price=fill_price, magic=position.magic, comment=f"[{tag} {level:.{digits}f}]",
            reason=reason, requested_price=level,
        )  # fmt: skip
        deal = self._ledger.close(position, fill)
        logger.info("position %d closed by %s at %s (deal %d)", ticket, tag.upper(), fill_price, deal.ticket)


def _fill_price(kind: TriggerKind, level: float, span: Range) -> float:
    """The level itself when the range traded through it, else the nearest price the range offered."""
    low_bid, high_bid, low_ask, high_ask = span
    low, high = (low_ask, high_ask) if kind in _ON_ASK else (low_bid, high_bid)
    return min(max(level, low), high)
