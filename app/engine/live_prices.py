"""The rows of a cycle's ``trade_updated`` event: price, profit and R of the trades whose figures changed.

Per symbol the figures of all its trades come from arrays (the position book's moving numbers and the symbol's
prices) and are compared with what was published last; rows are built only for the trades that differ. Every
``full_every_s`` seconds every row is published again, so a listener that joined late has them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.engine.market_data import MarketData
from app.engine.model import Direction
from app.engine.position_book import PositionBook
from app.engine.registry import SymbolGroup

FULL_EVERY_S = 30.0


class _Table:
    def __init__(self, group: SymbolGroup) -> None:
        trades = list(group.trades.values())
        self.generation = group.generation
        self.tickets = np.array([t.ticket for t in trades], dtype=np.int64)
        self.entry = np.array([t.entry for t in trades], dtype=np.float64)
        self.sign = np.array([1.0 if t.direction is Direction.BUY else -1.0 for t in trades], dtype=np.float64)
        self.r = np.array([t.r if t.r > 0 else 0.0 for t in trades], dtype=np.float64)
        self.book_version = -1
        self.rows = np.empty(0, dtype=np.int64)
        nothing = np.full(len(trades), np.nan)
        self.price, self.profit, self.profit_r = nothing, nothing.copy(), nothing.copy()


def _cut(old: _Table, group: SymbolGroup) -> _Table | None:
    """``old`` without the trades that left the group, or None if any trade joined (a mass close is a cut)."""
    tickets = np.fromiter(group.trades, dtype=np.int64, count=len(group.trades))
    keep = np.isin(old.tickets, tickets)
    if int(keep.sum()) != len(tickets) or not np.array_equal(old.tickets[keep], tickets):
        return None
    table = _Table.__new__(_Table)
    table.generation = group.generation
    table.tickets = tickets
    table.entry, table.sign, table.r = old.entry[keep], old.sign[keep], old.r[keep]
    table.book_version = -1
    table.rows = np.empty(0, dtype=np.int64)
    table.price, table.profit, table.profit_r = old.price[keep], old.profit[keep], old.profit_r[keep]
    return table


class LivePrices:
    def __init__(self, full_every_s: float = FULL_EVERY_S) -> None:
        self._tables: dict[str, _Table] = {}
        self._full_every_s = full_every_s
        self._full_at = float("-inf")

    def rows(
        self, groups: Mapping[str, SymbolGroup], market: MarketData, book: PositionBook, now: float
    ) -> list[dict[str, Any]]:
        full = now - self._full_at >= self._full_every_s
        if full:
            self._full_at = now
        for symbol in self._tables.keys() - groups.keys():
            del self._tables[symbol]
        out: list[dict[str, Any]] = []
        if not len(book):
            return out
        for symbol, group in groups.items():
            data = market.get(symbol)
            if data is None:
                continue
            table = self._tables.get(symbol)
            if table is None or table.generation != group.generation:
                cut = _cut(table, group) if table is not None else None
                table = self._tables[symbol] = cut if cut is not None else _Table(group)
            if table.book_version != book.version:
                table.rows = book.rows(table.tickets.tolist())
                table.book_version = book.version
            there = table.rows >= 0
            rows = np.where(there, table.rows, 0)
            price = np.where(there, book.price_current[rows], np.nan)
            profit = np.where(there, book.profit[rows], np.nan)
            closing = np.where(table.sign > 0, data.bid, data.ask)
            profit_r = np.divide(
                table.sign * (closing - table.entry), table.r, out=np.zeros(len(table.r)), where=table.r > 0
            )
            if full:
                changed = there
            else:
                changed = there & ((price != table.price) | (profit != table.profit) | (profit_r != table.profit_r))
            table.price, table.profit, table.profit_r = price, profit, profit_r
            picked = np.flatnonzero(changed)
            if not len(picked):
                continue
            out.extend(
                {"ticket": ticket, "price": p, "profit": money, "profit_r": r}
                for ticket, p, money, r in zip(
                    table.tickets[picked].tolist(),
                    price[picked].tolist(),
                    profit[picked].tolist(),
                    profit_r[picked].tolist(),
                    strict=True,
                )
            )
        return out
