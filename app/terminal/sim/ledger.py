"""Executions turned into book entries: the filled order in history, its deal, the position change and the
realised profit on the balance. Shared by client requests and by the server's own stops and triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim.broker import Broker
from app.terminal.sim.clock import seconds_of
from app.terminal.sim.money import Money
from app.terminal.sim.records import Position
from app.terminal.structs import TradeDeal, TradeOrder

if TYPE_CHECKING:
    from app.terminal.sim.clock import SimClock
    from app.terminal.sim.market.core import Market

_VOLUME_EPS = 1e-9


def opposite(order_type: int) -> int:
    return c.ORDER_TYPE_SELL if order_type == c.ORDER_TYPE_BUY else c.ORDER_TYPE_BUY


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One market execution as the client asked for it (or as the server decided, for stops)."""

    order: int
    symbol: str
    type: int
    volume: float
    price: float
    magic: int = 0
    comment: str = ""
    reason: int = c.ORDER_REASON_EXPERT
    sl: float = 0.0
    tp: float = 0.0
    type_filling: int = c.ORDER_FILLING_FOK
    type_time: int = c.ORDER_TIME_GTC
    setup_msc: int = 0  # when the order was placed, if earlier than its execution (pending orders)
    requested_price: float = 0.0
    history_type: int | None = None  # the type history lists, when not the market side (a filled limit)
    time_msc: int = 0  # when it executed, if not now (the tick that triggered a stop)


class Ledger:
    def __init__(self, broker: Broker, money: Money, market: Market, clock: SimClock) -> None:
        self._broker = broker
        self._money = money
        self._market = market
        self._clock = clock

    def now_msc(self) -> int:
        return self._clock.now_msc()

    def _at(self, fill: Fill) -> int:
        return fill.time_msc or self._clock.now_msc()

    # --- history entries -------------------------------------------------------------------------------

    def record_order(
        self,
        fill: Fill,
        *,
        position_id: int,
        position_by: int = 0,
        order_type: int | None = None,
        state: int = c.ORDER_STATE_FILLED,
        volume_current: float = 0.0,
    ) -> TradeOrder:
        done = self._at(fill)
        setup = fill.setup_msc or done
        order = TradeOrder(
            fill.order, seconds_of(setup), setup, seconds_of(done), done, 0,
            order_type if order_type is not None else fill.history_type if fill.history_type is not None
            else fill.type, fill.type_time, fill.type_filling, state,
            fill.magic, position_id, position_by, fill.reason, fill.volume, volume_current,
            fill.requested_price or fill.price, fill.sl, fill.tp, fill.price, 0.0, fill.symbol, fill.comment, "",
        )  # fmt: skip
        self._broker.add_history_order(order)
        return order

    def record_deal(
        self, fill: Fill, *, deal_type: int, entry: int, position_id: int, volume: float, price: float, profit: float
    ) -> TradeDeal:
        now = self._at(fill)
        deal = TradeDeal(
            self._broker.new_deal_ticket(), fill.order, seconds_of(now), now, deal_type, entry, fill.magic,
            position_id, fill.reason, volume, price, 0.0, 0.0, profit, 0.0, fill.symbol, fill.comment, "",
        )  # fmt: skip
        self._broker.add_deal(deal)
        if profit:
            self._broker.add_balance(profit)
        return deal

    def record_balance(self, amount: float, comment: str) -> TradeDeal:
        """A deposit or withdrawal, as a DEAL_TYPE_BALANCE deal."""
        now = self.now_msc()
        deal = TradeDeal(
            self._broker.new_deal_ticket(), 0, now // 1000, now, c.DEAL_TYPE_BALANCE, c.DEAL_ENTRY_IN, 0, 0, 0,
            0.0, 0.0, 0.0, 0.0, round(amount, 2), 0.0, "", comment, "",
        )  # fmt: skip
        self._broker.add_deal(deal)
        self._broker.add_balance(amount)
        return deal

    # --- position changes ------------------------------------------------------------------------------

    def open(self, fill: Fill) -> TradeDeal:
        """A new position whose ticket is the opening order's ticket."""
        now = self._at(fill)
        position = Position(
            ticket=fill.order, time_msc=now, time_update_msc=now, type=fill.type, magic=fill.magic,
            identifier=fill.order, reason=fill.reason, volume=fill.volume, price_open=fill.price, sl=fill.sl,
            tp=fill.tp, swap=0.0, symbol=fill.symbol, comment=fill.comment,
        )  # fmt: skip
        self._broker.add_position(position)
        self.record_order(fill, position_id=position.ticket)
        return self.record_deal(fill, deal_type=fill.type, entry=c.DEAL_ENTRY_IN, position_id=position.ticket,
                                volume=fill.volume, price=fill.price, profit=0.0)  # fmt: skip

    def close(
        self, position: Position, fill: Fill, *, entry: int = c.DEAL_ENTRY_OUT, record_order: bool = True
    ) -> TradeDeal:
        """Close ``fill.volume`` of ``position`` at ``fill.price``; the ticket survives a partial close."""
        spec = self._market.symbols[position.symbol]
        profit = round(self._money.profit(spec, position.type, fill.volume, position.price_open, fill.price), 2)
        remaining = round(position.volume - fill.volume, 8)
        if remaining <= _VOLUME_EPS:
            self._broker.remove_position(position.ticket)
        else:
            self._broker.update_position(position, time_msc=self._at(fill), volume=remaining)
        if record_order:
            self.record_order(fill, position_id=position.ticket)
        return self.record_deal(fill, deal_type=opposite(position.type), entry=entry, position_id=position.ticket,
                                volume=fill.volume, price=fill.price, profit=profit)  # fmt: skip

    def net(self, fill: Fill) -> TradeDeal:
        """A deal on a netting account: opens, adds to, reduces, closes or reverses the symbol's position."""
        position = self._broker.netting_position(fill.symbol)
        if position is None:
            return self.open(fill)
        if position.type == fill.type:
            volume = round(position.volume + fill.volume, 8)
            average = (position.volume * position.price_open + fill.volume * fill.price) / volume
            spec = self._market.symbols[fill.symbol]
            self._broker.update_position(
                position, time_msc=self._at(fill), volume=volume, price_open=round(average, spec.digits + 3),
                sl=fill.sl or None, tp=fill.tp or None,
            )  # fmt: skip
            self.record_order(fill, position_id=position.ticket)
            return self.record_deal(fill, deal_type=fill.type, entry=c.DEAL_ENTRY_IN, position_id=position.ticket,
                                    volume=fill.volume, price=fill.price, profit=0.0)  # fmt: skip
        if fill.volume <= position.volume + _VOLUME_EPS:
            return self.close(position, fill)
        spec = self._market.symbols[fill.symbol]
        profit = round(self._money.profit(spec, position.type, position.volume, position.price_open, fill.price), 2)
        self._broker.update_position(
            position, time_msc=self._at(fill), volume=round(fill.volume - position.volume, 8),
            price_open=fill.price, type=fill.type, sl=fill.sl, tp=fill.tp,
        )  # fmt: skip
        self.record_order(fill, position_id=position.ticket)
        return self.record_deal(fill, deal_type=fill.type, entry=c.DEAL_ENTRY_INOUT, position_id=position.ticket,
                                volume=fill.volume, price=fill.price, profit=profit)  # fmt: skip
