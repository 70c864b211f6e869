"""The simulated trade server's book: account, open positions, pending orders, history, ticket counters.

Every change goes through a method here, which keeps the indexes (per symbol, per position id), the
per-symbol exposure sums (so account figures cost O(symbols), not O(positions)), the watched trigger
levels and the list of unsaved changes consistent. Trading rules live elsewhere; this is bookkeeping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.terminal import constants as c
from app.terminal.sim.position_table import PositionTable
from app.terminal.sim.records import Account, PendingOrder, Position
from app.terminal.sim.triggers import TriggerKind, Triggers
from app.terminal.structs import TradeDeal, TradeOrder

logger = logging.getLogger(__name__)

_DAY = 86_400


@dataclass(slots=True)
class Exposure:
    """Open volume on one symbol, summed per side (notional = volume x open price)."""

    buy_volume: float = 0.0
    buy_notional: float = 0.0
    sell_volume: float = 0.0
    sell_notional: float = 0.0
    count: int = 0

    def add(self, position: Position, sign: int) -> None:
        volume = position.volume * sign
        if position.type == c.POSITION_TYPE_BUY:
            self.buy_volume += volume
            self.buy_notional += volume * position.price_open
        else:
            self.sell_volume += volume
            self.sell_notional += volume * position.price_open
        self.count += sign
        if self.count == 0:  # no float residue once the symbol is flat
            self.buy_volume = self.buy_notional = self.sell_volume = self.sell_notional = 0.0


@dataclass(slots=True)
class Changes:
    """What changed since the last save: rows to write (a record) or delete (None)."""

    positions: dict[int, Position | None] = field(default_factory=dict)
    orders: dict[int, PendingOrder | None] = field(default_factory=dict)
    history_orders: list[TradeOrder] = field(default_factory=list)
    deals: list[TradeDeal] = field(default_factory=list)
    account: bool = False
    counters: bool = False

    def __bool__(self) -> bool:
        return bool(self.positions or self.orders or self.history_orders or self.deals or self.account or self.counters)


def order_expiry(order: PendingOrder) -> int:
    """Server time at which a pending order expires, 0 for good-till-cancelled."""
    if order.type_time == c.ORDER_TIME_SPECIFIED:
        return order.time_expiration
    if order.type_time == c.ORDER_TIME_SPECIFIED_DAY:
        return (order.time_expiration // _DAY + 1) * _DAY
    if order.type_time == c.ORDER_TIME_DAY:
        return (order.time_setup_msc // 1000 // _DAY + 1) * _DAY
    return 0


class TicketIndex:
    """Tickets by a key (an order's deals, a position's deals or orders), in the order added. Most keys have
    one ticket, kept as the int itself: a one-element list per key cost 88 bytes (2.6 MB at 10,000 trades)."""

    __slots__ = ("_by",)

    def __init__(self) -> None:
        self._by: dict[int, int | list[int]] = {}

    def add(self, key: int, ticket: int) -> None:
        held = self._by.get(key)
        if held is None:
            self._by[key] = ticket
        elif isinstance(held, list):
            held.append(ticket)
        else:
            self._by[key] = [held, ticket]

    def get(self, key: int) -> list[int]:
        held = self._by.get(key)
        if held is None:
            return []
        return list(held) if isinstance(held, list) else [held]

    def __contains__(self, key: object) -> bool:
        return key in self._by


_POSITION_KINDS = {
    c.POSITION_TYPE_BUY: (TriggerKind.BUY_SL, TriggerKind.BUY_TP),
    c.POSITION_TYPE_SELL: (TriggerKind.SELL_SL, TriggerKind.SELL_TP),
}
_ORDER_KINDS = {
    c.ORDER_TYPE_BUY_LIMIT: TriggerKind.BUY_LIMIT,
    c.ORDER_TYPE_SELL_LIMIT: TriggerKind.SELL_LIMIT,
    c.ORDER_TYPE_BUY_STOP: TriggerKind.BUY_STOP,
    c.ORDER_TYPE_SELL_STOP: TriggerKind.SELL_STOP,
    c.ORDER_TYPE_BUY_STOP_LIMIT: TriggerKind.BUY_STOP,
    c.ORDER_TYPE_SELL_STOP_LIMIT: TriggerKind.SELL_STOP,
}


class Broker:
    def __init__(self, account: Account, *, next_order: int, next_deal: int, next_request: int = 1) -> None:
        self.account = account
        self.positions: dict[int, Position] = {}
        self.orders: dict[int, PendingOrder] = {}
        self.history_orders: dict[int, TradeOrder] = {}
        self.deals: dict[int, TradeDeal] = {}
        #: open tickets per symbol in opening order (a list: a dict per symbol held eight times the memory)
        self.by_symbol: dict[str, list[int]] = {}
        self.exposure: dict[str, Exposure] = {}
        self.triggers = Triggers()
        self.table = PositionTable(self.positions)
        self.next_order = next_order
        self.next_deal = next_deal
        self.next_request = next_request
        self.changes = Changes()
        self._deals_by_order = TicketIndex()
        self._deals_by_position = TicketIndex()
        self._history_by_position = TicketIndex()

    # --- tickets ---------------------------------------------------------------------------------------

    def new_order_ticket(self) -> int:
        ticket, self.next_order = self.next_order, self.next_order + 1
        self.changes.counters = True
        return ticket

    def new_deal_ticket(self) -> int:
        ticket, self.next_deal = self.next_deal, self.next_deal + 1
        self.changes.counters = True
        return ticket

    def new_request_id(self) -> int:
        request_id, self.next_request = self.next_request, self.next_request + 1
        self.changes.counters = True
        return request_id

    # --- positions -------------------------------------------------------------------------------------

    def add_position(self, position: Position) -> None:
        self.positions[position.ticket] = position
        self.by_symbol.setdefault(position.symbol, []).append(position.ticket)
        self.exposure.setdefault(position.symbol, Exposure()).add(position, 1)
        self._watch_position(position)
        self.table.touch(position.ticket)
        self.changes.positions[position.ticket] = position

    def update_position(
        self,
        position: Position,
        *,
        time_msc: int,
        volume: float | None = None,
        price_open: float | None = None,
        type: int | None = None,  # noqa: A002 - the module's field name
        sl: float | None = None,
        tp: float | None = None,
    ) -> None:
        exposure = self.exposure[position.symbol]
        exposure.add(position, -1)
        for kind in _POSITION_KINDS[position.type]:
            self.triggers.remove(kind, position.ticket)
        if volume is not None:
            position.volume = volume
        if price_open is not None:
            position.price_open = price_open
        if type is not None:
            position.type = type
        if sl is not None:
            position.sl = sl
        if tp is not None:
            position.tp = tp
        position.time_update_msc = time_msc
        exposure.add(position, 1)
        self._watch_position(position)
        self.table.touch(position.ticket)
        self.changes.positions[position.ticket] = position

    def remove_position(self, ticket: int) -> Position:
        position = self.positions.pop(ticket)
        self.by_symbol[position.symbol].remove(ticket)
        self.exposure[position.symbol].add(position, -1)
        for kind in _POSITION_KINDS[position.type]:
            self.triggers.remove(kind, ticket)
        self.table.touch(ticket)
        self.changes.positions[ticket] = None
        return position

    def _watch_position(self, position: Position) -> None:
        sl_kind, tp_kind = _POSITION_KINDS[position.type]
        self.triggers.set(sl_kind, position.symbol, position.ticket, position.sl)
        self.triggers.set(tp_kind, position.symbol, position.ticket, position.tp)

    def netting_position(self, symbol: str) -> Position | None:
        """The one position a netting account holds on ``symbol``, if any."""
        on_symbol = self.by_symbol.get(symbol)
        return self.positions[on_symbol[0]] if on_symbol else None

    # --- pending orders --------------------------------------------------------------------------------

    def add_order(self, order: PendingOrder) -> None:
        self.orders[order.ticket] = order
        self._watch_order(order)
        self.changes.orders[order.ticket] = order

    def changed_order(self, order: PendingOrder, old_type: int) -> None:
        """Call after changing an order's price, type or expiry in place."""
        self.triggers.remove(_ORDER_KINDS[old_type], order.ticket)
        self._watch_order(order)
        self.changes.orders[order.ticket] = order

    def remove_order(self, ticket: int) -> PendingOrder:
        order = self.orders.pop(ticket)
        self.triggers.remove(_ORDER_KINDS[order.type], ticket)
        self.triggers.set_expiry(ticket, 0)
        self.changes.orders[ticket] = None
        return order

    def _watch_order(self, order: PendingOrder) -> None:
        self.triggers.set(_ORDER_KINDS[order.type], order.symbol, order.ticket, order.price_open)
        self.triggers.set_expiry(order.ticket, order_expiry(order))

    # --- history ---------------------------------------------------------------------------------------

    def add_history_order(self, order: TradeOrder, *, saved: bool = False) -> None:
        self.history_orders[order.ticket] = order
        # the order that opened a position has the position's id as its ticket: found by it, not indexed
        if order.position_id and order.position_id != order.ticket:
            self._history_by_position.add(order.position_id, order.ticket)
        if not saved:
            self.changes.history_orders.append(order)

    def add_deal(self, deal: TradeDeal, *, saved: bool = False) -> None:
        self.deals[deal.ticket] = deal
        # a deal of the order that opened its position is found through the position, not indexed by order
        if deal.order and deal.order != deal.position_id:
            self._deals_by_order.add(deal.order, deal.ticket)
        if deal.position_id:
            self._deals_by_position.add(deal.position_id, deal.ticket)
        if not saved:
            self.changes.deals.append(deal)

    def deals_of_order(self, ticket: int) -> list[TradeDeal]:
        tickets = self._deals_by_order.get(ticket)
        opening = [t for t in self._deals_by_position.get(ticket) if self.deals[t].order == ticket]
        if opening:
            tickets = sorted(tickets + opening)  # deal tickets grow: their order is the order they were added in
        return [self.deals[t] for t in tickets]

    def deals_of_position(self, position_id: int) -> list[TradeDeal]:
        return [self.deals[t] for t in self._deals_by_position.get(position_id)]

    def history_orders_of_position(self, position_id: int) -> list[TradeOrder]:
        tickets = self._history_by_position.get(position_id)
        opening = self.history_orders.get(position_id)
        if opening is not None and opening.position_id == position_id:
            tickets.insert(0, position_id)  # the order that opened the position came first
        return [self.history_orders[t] for t in tickets]

    def was_closed(self, ticket: int) -> bool:
        """True for a position that existed and is closed now."""
        return ticket not in self.positions and ticket in self._deals_by_position

    # --- account ---------------------------------------------------------------------------------------

    def add_balance(self, amount: float) -> None:
        self.account.balance = round(self.account.balance + amount, 2)
        self.changes.account = True

    def take_changes(self) -> Changes:
        changes, self.changes = self.changes, Changes()
        return changes
