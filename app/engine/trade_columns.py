"""One symbol's managed trades as columns: what the fast cycle computes for all of them at once.

Built once per generation of the symbol's group (``SymbolGroup.columns``) and shared by whatever reads them
in a cycle (profit protection's and the early checks' quiet ranges, the live figures).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

import numpy as np

from app.engine.model import Direction, Trade
from app.engine.position_book import row_numbers


class TradeColumns:
    entry: np.ndarray
    sign: np.ndarray  # +1 a BUY, -1 a SELL
    r: np.ndarray  # 0 where the trade has no R

    def __init__(self, trades: Mapping[int, Trade], before: TradeColumns | None = None) -> None:
        """``before``: the symbol's columns of the generation before, whose rows are cut instead of read again
        from the trades when trades only left since (a mass close)."""
        self.trades = list(trades.values())
        self.tickets = list(trades)
        self.ticket_array = np.array(self.tickets, dtype=np.int64)
        self.position = dict(zip(self.tickets, row_numbers(len(self.tickets))))
        # what ``kept_rows`` found against the columns asked about last: every reader of these columns (the quiet
        # ranges of each look, the live figures) asks about the same older columns after trades left. Those are
        # referred to weakly: each generation holding the one before would keep every generation of the symbol's
        # columns alive, one more at each change of its trades, for as long as the desk runs
        self._kept_from: tuple[weakref.ref[TradeColumns], np.ndarray | None] | None = None
        kept = self.kept_rows(before) if before is not None else None
        if before is not None and kept is not None:
            # a trade's entry, side and R never change while it is managed
            self.entry, self.sign, self.r = before.entry[kept], before.sign[kept], before.r[kept]
            return
        self.entry = np.array([t.entry for t in self.trades], dtype=np.float64)
        self.sign = np.array([1.0 if t.direction is Direction.BUY else -1.0 for t in self.trades], dtype=np.float64)
        self.r = np.array([t.r if t.r > 0 else 0.0 for t in self.trades], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.trades)

    def kept_rows(self, old: TradeColumns) -> np.ndarray | None:
        """The rows of ``old`` these columns are, when trades only left since (each of these trades was in
        ``old``, the same object, in the same order): what was known row for row is then cut, not rebuilt."""
        if self._kept_from is not None and self._kept_from[0]() is old:
            return self._kept_from[1]
        found = self._kept_rows(old)
        self._kept_from = (weakref.ref(old), found)
        return found

    def _kept_rows(self, old: TradeColumns) -> np.ndarray | None:
        if len(self.trades) > len(old.trades):  # a trade joined
            return None
        kept = np.flatnonzero(np.isin(old.ticket_array, self.ticket_array))
        if not np.array_equal(old.ticket_array[kept], self.ticket_array):
            return None
        olds = old.trades
        if any(olds[row] is not trade for row, trade in zip(kept.tolist(), self.trades, strict=True)):
            return None
        return kept

    def profit_r(self, bid: float, ask: float) -> np.ndarray:
        """Every trade's profit in R at these prices, as ``Trade.profit_in_r`` computes it (0 without R)."""
        closing = np.where(self.sign > 0, bid, ask)
        return np.divide(self.sign * (closing - self.entry), self.r, out=np.zeros(len(self.r)), where=self.r > 0)
