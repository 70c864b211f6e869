"""The terminal's open positions as the fast cycle last read them, kept up to date from changes.

Each position is kept whole as it last changed, beside arrays of every position's moving numbers
(``price_current``, ``swap``, ``profit``). Reading a position by ticket gives it whole and current; the cycle
reads the moving numbers of many positions at once from the arrays, and learns which tickets are new or changed
(``changed``) and which are gone (``removed``) since the previous read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from app.terminal.position_feed import Cursor, PositionChanges

_EMPTY_INT = np.empty(0, dtype=np.int64)
_EMPTY = np.empty(0, dtype=np.float64)


class PositionBook(Mapping[int, Any]):
    def __init__(self) -> None:
        self._whole: dict[int, Any] = {}  # each position as it last changed (its moving numbers may be old)
        self._index: dict[int, int] = {}  # ticket -> row of the arrays
        self._tickets = _EMPTY_INT
        self._price = self._swap = self._profit = _EMPTY
        #: the answer applied last, for the next request (None: ask for everything)
        self.cursor: Cursor | None = None
        #: tickets new or changed apart from price, swap and profit at the last read; all of them after a full one
        self.changed: set[int] = set()
        self.removed: set[int] = set()
        #: True when the last read replaced the whole book
        self.full = True
        #: changes whenever the set or order of tickets changes (row numbers are then different)
        self.version = 0

    # --- reading ---------------------------------------------------------------------------------------------

    def __getitem__(self, ticket: int) -> Any:
        position = self._whole[ticket]
        row = self._index[ticket]
        price, swap, profit = float(self._price[row]), float(self._swap[row]), float(self._profit[row])
        if position.price_current == price and position.swap == swap and position.profit == profit:
            return position
        return position._replace(price_current=price, swap=swap, profit=profit)

    def __contains__(self, ticket: object) -> bool:
        return ticket in self._index

    def __iter__(self) -> Iterator[int]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def tickets(self) -> set[int]:
        """The open tickets (a view: do not change it)."""
        return self._index.keys()  # type: ignore[return-value]

    def as_changed(self) -> Iterable[Any]:
        """Every position as it last changed: the fields other than price, swap and profit are current."""
        return self._whole.values()

    def rows(self, tickets: Iterable[int]) -> np.ndarray:
        """The array rows of ``tickets`` (-1 for a ticket not open)."""
        index = self._index
        return np.fromiter((index.get(t, -1) for t in tickets), dtype=np.int64)

    @property
    def price_current(self) -> np.ndarray:
        return self._price

    @property
    def profit(self) -> np.ndarray:
        return self._profit

    def floating(self) -> float:
        """Profit and swap of every open position."""
        return float(self._profit.sum() + self._swap.sum())

    # --- changing --------------------------------------------------------------------------------------------

    def apply(self, changes: PositionChanges) -> None:
        before = self._index
        if changes.full:
            self._whole = {}
        for position in changes.changed:
            self._whole[int(position.ticket)] = position
        if changes.full or not np.array_equal(changes.tickets, self._tickets):
            tickets = changes.tickets.tolist()
            self._index = dict(zip(tickets, range(len(tickets)), strict=True))
            self.removed = before.keys() - self._index.keys()
            for ticket in self.removed:
                self._whole.pop(ticket, None)
            self.version += 1
        else:
            self.removed = set()
        self._tickets = changes.tickets
        self._price, self._swap, self._profit = changes.price_current, changes.swap, changes.profit
        self.changed = {int(p.ticket) for p in changes.changed}
        self.full = changes.full
        self.cursor = changes.cursor
