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
from app.engine.position_book import PositionBook
from app.engine.registry import SymbolGroup
from app.engine.trade_columns import TradeColumns

FULL_EVERY_S = 30.0


class _Table:
    """What was published last for one symbol's trades, row for row with its trade columns."""

    price: np.ndarray
    profit: np.ndarray
    profit_r: np.ndarray

    def __init__(self, columns: TradeColumns, old: _Table | None) -> None:
        self.columns = columns
        self.book_version = -1
        self.rows = np.empty(0, dtype=np.int64)
        kept = columns.kept_rows(old.columns) if old is not None else None
        if old is not None and kept is not None:  # trades only left (a mass close): what the others showed stays
            self.price, self.profit, self.profit_r = old.price[kept], old.profit[kept], old.profit_r[kept]
            return
        nothing = np.full(len(columns), np.nan)
        self.price, self.profit, self.profit_r = nothing, nothing.copy(), nothing.copy()


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
            columns = group.columns()
            table = self._tables.get(symbol)
            if table is None or table.columns is not columns:
                table = self._tables[symbol] = _Table(columns, table)
            if table.book_version != book.version:
                table.rows = book.rows(columns.tickets)
                table.book_version = book.version
            there = table.rows >= 0
            rows = np.where(there, table.rows, 0)
            price = np.where(there, book.price_current[rows], np.nan)
            profit = np.where(there, book.profit[rows], np.nan)
            profit_r = columns.profit_r(data.bid, data.ask)
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
                    columns.ticket_array[picked].tolist(),
                    price[picked].tolist(),
                    profit[picked].tolist(),
                    profit_r[picked].tolist(),
                    strict=True,
                )
            )
        return out
