"""Which trades a fast cycle must look at: those whose last look may no longer hold.

When a look at a trade (profit protection, or the deep check's early-check signal) finds nothing to do, it also
says how long that stays true: while the trade's profit in R stays strictly between ``low`` and ``high`` and
the clock stays before ``wake``, given the trade as it is. Per symbol the profits of all its trades are computed
at once from the symbol's prices, and only the trades outside their range (or past their time, or never looked
at, or changed by a decision since) are looked at again. A cycle then costs what changed, not what is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from app.engine.model import Direction, Trade

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Quiet:
    """Nothing to do while ``low < profit_r < high`` and ``now < wake``."""

    low: float = -INF
    high: float = INF
    wake: float = INF


#: nothing to do until the trade itself changes
FOR_GOOD = Quiet()


class _Symbol:
    """One symbol's trades, in columns."""

    entry: np.ndarray
    sign: np.ndarray
    per_r: np.ndarray
    low: np.ndarray
    high: np.ndarray
    wake: np.ndarray
    profit_r: np.ndarray

    def __init__(self, trades: Mapping[int, Trade], old: _Symbol | None) -> None:
        self.trades = list(trades.values())
        self.tickets = list(trades)
        self.position = {ticket: row for row, ticket in enumerate(self.tickets)}
        kept = _kept_rows(self.trades, old) if old is not None else None
        if old is not None and kept is not None:  # trades only left (a mass close): the columns are cut
            self.entry, self.sign, self.per_r = old.entry[kept], old.sign[kept], old.per_r[kept]
            self.low, self.high, self.wake = old.low[kept], old.high[kept], old.wake[kept]
            self.profit_r = old.profit_r[kept]
            return
        count = len(self.trades)
        self.entry = np.array([t.entry for t in self.trades], dtype=np.float64)
        self.sign = np.array([1.0 if t.direction is Direction.BUY else -1.0 for t in self.trades], dtype=np.float64)
        self.per_r = np.array([1.0 / t.r if t.r > 0 else 0.0 for t in self.trades], dtype=np.float64)
        self.low = np.full(count, INF)  # +inf: look again (the range is empty)
        self.high = np.full(count, -INF)
        self.wake = np.full(count, -INF)
        self.profit_r = np.zeros(count)
        if old is not None:  # what was known of the trades that stay
            for row, ticket in enumerate(self.tickets):
                was = old.position.get(ticket)
                if was is not None and old.trades[was] is self.trades[row]:
                    self.low[row], self.high[row], self.wake[row] = old.low[was], old.high[was], old.wake[was]


def _kept_rows(trades: list[Trade], old: _Symbol) -> np.ndarray | None:
    """The old rows of ``trades`` when each of them was there already (the same trade, in the same order)."""
    position = old.position
    rows = [position.get(t.ticket, -1) for t in trades]
    if -1 in rows or any(old.trades[row] is not trade for row, trade in zip(rows, trades, strict=True)):
        return None
    kept = np.array(rows, dtype=np.int64)
    return kept if bool(np.all(np.diff(kept) > 0)) else None


class QuietTrades:
    """The ranges of one kind of look (protection, or early checks), per symbol."""

    def __init__(self) -> None:
        self._symbols: dict[str, tuple[object, _Symbol]] = {}
        self._key: dict[str, object] = {}

    def due(
        self, symbol: str, trades: Mapping[int, Trade], generation: object, bid: float, ask: float, now: float
    ) -> list[Trade]:
        """The trades of ``symbol`` to look at (``trades``: all of them, ``generation`` changes with that set)."""
        known = self._symbols.get(symbol)
        if known is None or known[0] != generation:
            known = (generation, _Symbol(trades, known[1] if known is not None else None))
            self._symbols[symbol] = known
        table = known[1]
        if not table.trades:
            return []
        price = np.where(table.sign > 0, bid, ask)
        table.profit_r = profit_r = table.sign * (price - table.entry) * table.per_r
        rows = np.flatnonzero((profit_r <= table.low) | (profit_r >= table.high) | (now >= table.wake))
        trades_list = table.trades
        return [trades_list[row] for row in rows.tolist()]

    def profit_r(self, symbol: str) -> tuple[list[int], np.ndarray] | None:
        """The tickets of ``symbol`` and their profit in R at the last ``due``."""
        known = self._symbols.get(symbol)
        return None if known is None else (known[1].tickets, known[1].profit_r)

    def quiet(self, trade: Trade, quiet: Quiet | None) -> None:
        """What the look at ``trade`` found (None: look again next time)."""
        known = self._symbols.get(trade.symbol)
        if known is None:
            return
        table = known[1]
        row = table.position.get(trade.ticket)
        if row is None or table.trades[row] is not trade:
            return
        if quiet is None:
            table.low[row], table.high[row], table.wake[row] = INF, -INF, -INF
        else:
            table.low[row], table.high[row], table.wake[row] = quiet.low, quiet.high, quiet.wake

    def forget(self, ticket: int, symbol: str) -> None:
        """A decision changed the trade: look at it again."""
        known = self._symbols.get(symbol)
        if known is not None:
            row = known[1].position.get(ticket)
            if row is not None:
                known[1].low[row], known[1].high[row], known[1].wake[row] = INF, -INF, -INF

    def keyed(self, symbol: str, key: object) -> None:
        """Forget the symbol's ranges when ``key`` (what they were found with: rules, ATR, settings) changes."""
        if self._key.get(symbol, key) != key:
            self._symbols.pop(symbol, None)
        self._key[symbol] = key

    def clear(self, symbols: Iterable[str] | None = None) -> None:
        for symbol in list(self._symbols) if symbols is None else symbols:
            self._symbols.pop(symbol, None)
