"""history_orders_* and history_deals_*: the three ways of asking (a time range with an optional group,
an order ticket, a position id) and their argument rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.terminal.sim import args as a
from app.terminal.sim import codes
from app.terminal.sim.broker import Broker
from app.terminal.sim.codes import CallError
from app.terminal.structs import TradeDeal, TradeOrder

KEYWORDS = ("group", "ticket", "position")


def range_total(arguments: tuple[Any, ...]) -> tuple[int, int]:
    """``history_*_total(date_from, date_to)``: positional only."""
    a.count(arguments, 2)
    return a.date(arguments[0], 0), a.date(arguments[1], 1)


class HistoryQuery:
    """One parsed history request: either a time range (with an optional group) or a ticket or a position."""

    __slots__ = ("date_from", "date_to", "group", "ticket", "position")

    def __init__(self, arguments: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.date_from = self.date_to = 0
        self.group: Callable[[str], bool] | None = None
        self.ticket: int | None = None
        self.position: int | None = None
        if "ticket" in kwargs or "position" in kwargs:
            if arguments:
                raise CallError(codes.UNNAMED_NOT_ALLOWED)
            if "ticket" in kwargs:
                self.ticket = a.keyword_ticket(kwargs["ticket"], "ticket")
            else:
                self.position = a.keyword_ticket(kwargs["position"], "position")
            return
        if not arguments:
            raise CallError(codes.INVALID_ARGUMENTS)
        a.count(arguments, 2)
        self.date_from, self.date_to = a.date(arguments[0], 0), a.date(arguments[1], 1)
        if "group" in kwargs:
            self.group = a.keyword_group(kwargs["group"])

    def in_range(self, seconds: int, symbol: str) -> bool:
        return self.date_from <= seconds <= self.date_to and (self.group is None or self.group(symbol))


def history_orders(broker: Broker, query: HistoryQuery) -> tuple[TradeOrder, ...]:
    if query.ticket is not None:
        order = broker.history_orders.get(query.ticket)
        return (order,) if order is not None else ()
    if query.position is not None:
        return tuple(broker.history_orders_of_position(query.position))
    return tuple(o for o in broker.history_orders.values() if query.in_range(o.time_done, o.symbol))


def history_deals(broker: Broker, query: HistoryQuery) -> tuple[TradeDeal, ...]:
    if query.ticket is not None:
        return tuple(broker.deals_of_order(query.ticket))
    if query.position is not None:
        return tuple(broker.deals_of_position(query.position))
    return tuple(d for d in broker.deals.values() if query.in_range(d.time, d.symbol))


def orders_total(broker: Broker, date_from: int, date_to: int) -> int:
    return sum(1 for o in broker.history_orders.values() if date_from <= o.time_done <= date_to)


def deals_total(broker: Broker, date_from: int, date_to: int) -> int:
    return sum(1 for d in broker.deals.values() if date_from <= d.time <= date_to)
