"""The figures a trader reads about one action (volume, price, money, R, SL old -> new), gathered where the
action is carried out and carried in its ACTION event's payload, so a notification can say what was done
without looking anything up."""

from __future__ import annotations

from typing import Any

from app.engine.broker import SymbolRules
from app.engine.model import Direction, Trade


def closing_facts(trade: Trade, rules: SymbolRules, volume: float, price: float) -> dict[str, Any]:
    """A close of ``volume`` lots at ``price``: the money it booked and the profit in R at that price.
    Without a fill price (nothing was filled, or a lost answer was verified) only the volume is given."""
    facts: dict[str, Any] = {"volume": volume}
    if price <= 0:
        return facts
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    distance = sign * (price - trade.entry)
    facts["price"] = price
    money = rules.money(distance, volume)
    if money is not None:
        facts["money"] = round(money, 2)
    if trade.r > 0:
        facts["r"] = distance / trade.r
    return facts
