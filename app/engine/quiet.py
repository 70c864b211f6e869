"""Which trades a fast cycle must look at: those whose last look may no longer hold.

When a look at a trade (profit protection, or the deep check's early-check signal) finds nothing to do, it also
says how long that stays true: while the trade's profit in R stays strictly between ``low`` and ``high`` and
the clock stays before ``wake``, given the trade as it is. Per symbol the profits of all its trades are computed
at once from the symbol's prices, and only the trades outside their range (or past their time, or never looked
at, or changed by a decision since) are looked at again. A cycle then costs what changed, not what is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.engine.model import Trade
from app.engine.trade_columns import TradeColumns

if TYPE_CHECKING:
    from app.engine.registry import SymbolGroup

INF = float("inf")
#: the ranges stop this far (in R) short of the thresholds they guard, so a rounding difference never hides one
EDGE_R = 1e-6


@dataclass(frozen=True, slots=True)
class Quiet:
    """Nothing to do while ``low < profit_r < high`` and ``now < wake``."""

    low: float = -INF
    high: float = INF
    wake: float = INF


#: nothing to do until the trade itself changes
FOR_GOOD = Quiet()


class _Symbol:
    """One symbol's quiet ranges, row for row with its trade columns."""

    low: np.ndarray
    high: np.ndarray
    wake: np.ndarray

    def __init__(self, columns: TradeColumns, old: _Symbol | None) -> None:
        self.columns = columns
        kept = columns.kept_rows(old.columns) if old is not None else None
        if old is not None and kept is not None:  # trades only left (a mass close): the ranges are cut
            self.low, self.high, self.wake = old.low[kept], old.high[kept], old.wake[kept]
            return
        count = len(columns)
        self.low = np.full(count, INF)  # +inf: look again (the range is empty)
        self.high = np.full(count, -INF)
        self.wake = np.full(count, -INF)
        if old is not None:  # what was known of the trades that stay
            for row, (ticket, trade) in enumerate(zip(columns.tickets, columns.trades, strict=True)):
                was = old.columns.position.get(ticket)
                if was is not None and old.columns.trades[was] is trade:
                    self.low[row], self.high[row], self.wake[row] = old.low[was], old.high[was], old.wake[was]


class QuietTrades:
    """The ranges of one kind of look (protection, or early checks), per symbol."""

    def __init__(self) -> None:
        self._symbols: dict[str, _Symbol] = {}
        self._key: dict[str, object] = {}

    def track(self, symbol: str, group: SymbolGroup) -> _Symbol:
        """The symbol's ranges, row for row with ``group``'s trades as they are now (ranges found by ``quiet``
        are kept only for trades tracked when they were found)."""
        columns = group.columns()
        table = self._symbols.get(symbol)
        if table is None or table.columns is not columns:
            table = self._symbols[symbol] = _Symbol(columns, table)
        return table

    def due(self, symbol: str, group: SymbolGroup, bid: float, ask: float, now: float) -> list[Trade]:
        """The trades of ``symbol`` (all of them in ``group``) to look at."""
        table = self.track(symbol, group)
        columns = table.columns
        if not len(columns):
            return []
        profit_r = columns.profit_r(bid, ask)
        rows = np.flatnonzero((profit_r <= table.low) | (profit_r >= table.high) | (now >= table.wake))
        trades = columns.trades
        return [trades[row] for row in rows.tolist()]

    def quiet(self, trade: Trade, quiet: Quiet | None) -> None:
        """What the look at ``trade`` found (None: look again next time)."""
        table = self._symbols.get(trade.symbol)
        if table is None:
            return
        row = table.columns.position.get(trade.ticket)
        if row is None or table.columns.trades[row] is not trade:
            return
        if quiet is None:
            table.low[row], table.high[row], table.wake[row] = INF, -INF, -INF
        else:
            table.low[row], table.high[row], table.wake[row] = quiet.low, quiet.high, quiet.wake

    def forget(self, ticket: int, symbol: str) -> None:
        """A decision changed the trade: look at it again."""
        table = self._symbols.get(symbol)
        if table is not None:
            row = table.columns.position.get(ticket)
            if row is not None:
                table.low[row], table.high[row], table.wake[row] = INF, -INF, -INF

    def keyed(self, symbol: str, key: object) -> None:
        """Forget the symbol's ranges when ``key`` (what they were found with: rules, ATR, settings) changes."""
        if self._key.get(symbol, key) != key:
            self._symbols.pop(symbol, None)
        self._key[symbol] = key

    def clear(self, symbols: Iterable[str] | None = None) -> None:
        for symbol in list(self._symbols) if symbols is None else symbols:
            self._symbols.pop(symbol, None)
