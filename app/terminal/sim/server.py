"""The trade server's own work between client calls: stops, take profits, pending orders reaching their
price, expirations.

``catch_up()`` brings the market to the clock's now and acts on every level the prices touched in
between, so an SL hit while nobody was calling is executed at the next call, at the time and price of the
first tick that reached it (a stop slips to that tick's price; a limit fills there, at its price or
better). Levels touched in one interval are executed in the order their ticks came.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from app.terminal import constants as c
from app.terminal.sim.broker import Broker
from app.terminal.sim.ledger import Fill, Ledger, opposite
from app.terminal.sim.pending import PendingDesk
from app.terminal.sim.triggers import RISING, TriggerKind

if TYPE_CHECKING:
    from app.terminal.sim.clock import SimClock
    from app.terminal.sim.market.core import Market

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
    def __init__(self, broker: Broker, market: Market, clock: SimClock, ledger: Ledger, desk: PendingDesk, *,
                 synced_msc: int) -> None:  # fmt: skip
        self._broker = broker
        self._market = market
        self._clock = clock
        self._ledger = ledger
        self._desk = desk
        self._synced_msc = synced_msc

    def catch_up(self) -> None:
        now_msc = self._clock.now_msc()
        ranges: dict[str, Range] = {
            symbol: (low_bid, high_bid, low_ask, high_ask)
            for symbol, low_bid, high_bid, low_ask, high_ask in self._market.advance_to_now()
        }
        for symbol in self._broker.triggers.symbols():
            if symbol not in self._market.symbols:
                continue
            span = self._with_current(symbol, ranges.get(symbol))
            hits = self._broker.triggers.touched(symbol, *span)
            if hits:
                self._execute(symbol, hits, span, now_msc)
        for ticket in self._broker.triggers.expired(now_msc / 1000):
            order = self._broker.orders.get(ticket)
            if order is not None:
                logger.info("pending order %d expired", ticket)
                self._desk.retire(order, c.ORDER_STATE_EXPIRED)
        self._synced_msc = max(self._synced_msc, now_msc)

    def _with_current(self, symbol: str, span: Range | None) -> Range:
        """The range widened to the current quote, which a scripted price may have just set."""
        quote = self._market.quote(symbol)
        if span is None:
            return (quote.bid, quote.bid, quote.ask, quote.ask)
        low_bid, high_bid, low_ask, high_ask = span
        return (min(low_bid, quote.bid), max(high_bid, quote.bid), min(low_ask, quote.ask), max(high_ask, quote.ask))

    def _execute(self, symbol: str, hits: list[tuple[TriggerKind, int, float]], span: Range, now_msc: int) -> None:
        ticks = self._market.ticks_range(symbol, (self._synced_msc + 1) / 1000, now_msc / 1000, c.COPY_TICKS_ALL)
        timed = []
        for kind, ticket, level in hits:
            at_msc, price = _first_reach(kind, level, ticks, span, now_msc)
            timed.append((at_msc, kind, ticket, level, price))
        timed.sort(key=lambda hit: hit[0])
        for at_msc, kind, ticket, level, price in timed:
            if kind in _STOP_KINDS:
                self._stop_out(kind, ticket, level, price, at_msc)
            else:
                order = self._broker.orders.get(ticket)
                if order is not None:
                    self._desk.trigger(order, price, at_msc)

    def _stop_out(self, kind: TriggerKind, ticket: int, level: float, price: float, at_msc: int) -> None:
        position = self._broker.positions.get(ticket)
        if position is None:
            return
        reason = _STOP_KINDS[kind]
        digits = self._market.symbols[position.symbol].digits
        tag = "sl" if reason == c.ORDER_REASON_SL else "tp"
        fill = Fill(
            order=self._broker.new_order_ticket(), symbol=position.symbol, type=opposite(position.type),
            volume=position.volume, price=price, magic=position.magic, comment=f"[{tag} {level:.{digits}f}]",
            reason=reason, requested_price=level, time_msc=at_msc,
        )  # fmt: skip
        deal = self._ledger.close(position, fill)
        logger.info("position %d closed by %s at %s (deal %d)", ticket, tag.upper(), price, deal.ticket)


def _first_reach(kind: TriggerKind, level: float, ticks: np.ndarray, span: Range, now_msc: int) -> tuple[int, float]:
    """Time and price of the first tick at or beyond ``level``; without one (a price just set), the nearest
    price the range offered, now."""
    if len(ticks):
        prices = ticks["ask"] if kind in _ON_ASK else ticks["bid"]
        tolerance = abs(level) * 1e-12
        reached = prices >= level - tolerance if kind in RISING else prices <= level + tolerance
        if reached.any():
            first = int(np.argmax(reached))
            return int(ticks["time_msc"][first]), float(prices[first])
    low_bid, high_bid, low_ask, high_ask = span
    low, high = (low_ask, high_ask) if kind in _ON_ASK else (low_bid, high_bid)
    return now_msc, min(max(level, low), high)
