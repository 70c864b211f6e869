"""The terminal's open positions as the fast cycle last read them, kept up to date from changes.

Positions are kept as columns, not as objects: their numbers in one numpy record array, their three strings in
object arrays (each string interned), and the moving numbers (``price_current``, ``swap``, ``profit``) as the
arrays the last answer brought. At 10,000 positions that is about 1.5 MB instead of the 10 MB of whole tuples.
Reading a position by ticket builds it whole and current, as ``positions_get`` gives it; the cycle reads the
moving numbers of many positions at once from the arrays, and learns which tickets are new or changed
(``changed``) and which are gone (``removed``) since the previous read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from app.sharing import Shared
from app.terminal.position_feed import Cursor, PositionChanges
from app.terminal.structs import TradePosition

_FIELDS = TradePosition._fields
_PRICE = _FIELDS.index("price_current")
_TEXT = _FIELDS.index("symbol")
assert _FIELDS[_PRICE:_TEXT] == ("price_current", "swap", "profit") and len(_FIELDS) - _TEXT == 3
#: the fields before the moving numbers: integers, then volume, price_open, sl and tp
_NUMBERS = np.dtype(
    [(name, np.float64 if name in ("volume", "price_open", "sl", "tp") else np.int64) for name in _FIELDS[:_PRICE]]
)
_FLOAT = _FIELDS.index("volume")
assert _FIELDS[_FLOAT:_PRICE] == ("volume", "price_open", "sl", "tp")
_INTEGERS = itemgetter(slice(0, _FLOAT))
_FLOATS = itemgetter(slice(_FLOAT, _PRICE))
_TICKET = itemgetter(0)
_new = tuple.__new__
_EMPTY_INT = np.empty(0, dtype=np.int64)
_EMPTY = np.empty(0, dtype=np.float64)
_NO_TEXT = np.empty(0, dtype=object)


_ROW_NUMBERS: list[int] = []


def row_numbers(count: int) -> list[int]:
    """At least ``count`` row numbers from 0, the same int objects for every index that numbers rows (above 256
    each new int is 32 bytes: 10,000 rows numbered by the book and again by the symbols' trade columns)."""
    if len(_ROW_NUMBERS) < count:
        _ROW_NUMBERS.extend(range(len(_ROW_NUMBERS), max(count, 2 * len(_ROW_NUMBERS))))
    return _ROW_NUMBERS


#: one object for equal texts of the positions (symbol, comment, external id). Bounded rather than interned:
#: Python 3.12 before 3.12.6 never frees an interned text, and bots may give every position its own comment.
_TEXTS: Shared[str, str] = Shared(4096)


class PositionBook(Mapping[int, Any]):
    def __init__(self) -> None:
        self._index: dict[int, int] = {}  # ticket -> row of the arrays
        self._tickets = _EMPTY_INT
        self._numbers = np.empty(0, dtype=_NUMBERS)
        self._symbol = self._comment = self._external_id = _NO_TEXT
        self._price = self._swap = self._profit = _EMPTY
        # a position whose numbers do not fit the columns (an integer beyond 64 bits) is kept whole
        self._odd: dict[int, TradePosition] = {}
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

    def __getitem__(self, ticket: int) -> TradePosition:
        row = self._index[ticket]
        return self._build(row, ticket)

    def _build(self, row: int, ticket: int) -> TradePosition:
        price, swap, profit = self._price.item(row), self._swap.item(row), self._profit.item(row)
        if self._odd and ticket in self._odd:
            return self._odd[ticket]._replace(price_current=price, swap=swap, profit=profit)
        # the record's 13 numbers, then the moving ones and the strings, as the struct orders its fields
        numbers: tuple[Any, ...] = self._numbers.item(row)  # type: ignore[assignment]  # a record: its fields
        values = numbers + (price, swap, profit, self._symbol[row], self._comment[row], self._external_id[row])
        return _new(TradePosition, values)

    def __contains__(self, ticket: object) -> bool:
        return ticket in self._index

    def __iter__(self) -> Iterator[int]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def tickets(self) -> set[int]:
        """The open tickets (a view: do not change it)."""
        return self._index.keys()  # type: ignore[return-value]

    def as_changed(self) -> Iterator[TradePosition]:
        """Every position, built one at a time as it is read."""
        for ticket, row in self._index.items():
            yield self._build(row, ticket)

    def commented(self, prefixes: tuple[str, ...]) -> list[TradePosition]:
        """The positions whose comment starts with one of ``prefixes`` (only those are built)."""
        tickets = self._tickets.tolist()
        return [
            self._build(row, tickets[row])
            for row, comment in enumerate(self._comment.tolist())
            if comment and str(comment).startswith(prefixes)
        ]

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
        tickets = changes.tickets
        if changes.full or not np.array_equal(tickets, self._tickets):
            listed = tickets.tolist()
            self._index = dict(zip(listed, row_numbers(len(listed))))
            self.removed = before.keys() - self._index.keys()
            if changes.full:
                self._reset(len(listed))
            else:
                self._reorder(tickets)
            for ticket in self.removed:
                self._odd.pop(ticket, None)
            self.version += 1
        else:
            self.removed = set()
        self._tickets = tickets
        self._take(changes.changed)
        self._price, self._swap, self._profit = changes.price_current, changes.swap, changes.profit
        self.changed = {int(p.ticket) for p in changes.changed}
        self.full = changes.full
        self.cursor = changes.cursor

    def _reset(self, count: int) -> None:
        self._numbers = np.zeros(count, dtype=_NUMBERS)
        self._symbol, self._comment, self._external_id = (np.full(count, "", dtype=object) for _ in range(3))
        self._odd = {}

    def _reorder(self, tickets: np.ndarray) -> None:
        """Columns in the order of ``tickets``: each position known before moves to its new row (a new one's
        row is filled from the answer's changed positions)."""
        old = self._tickets
        order = np.argsort(old, kind="stable")
        known = old[order]
        at = np.minimum(np.searchsorted(known, tickets), max(len(known) - 1, 0))
        source = order[at] if len(known) else np.zeros(len(tickets), dtype=np.int64)
        if len(known):
            self._numbers = self._numbers[source]
            self._symbol, self._comment, self._external_id = (
                column[source] for column in (self._symbol, self._comment, self._external_id)
            )
        else:
            self._reset(len(tickets))

    def _take(self, positions: tuple[Any, ...]) -> None:
        if not positions:
            return
        if len(positions) == len(self._numbers) and self._take_all(positions):
            return
        index = self._index
        rows = [index[int(p.ticket)] for p in positions]
        try:
            self._numbers[rows] = [tuple(p[:_PRICE]) for p in positions]
        except (OverflowError, TypeError, ValueError):
            for row, position in zip(rows, positions, strict=True):
                self._take_one(row, position)
        else:
            if self._odd:
                for position in positions:
                    self._odd.pop(int(position.ticket), None)
        for column, offset in ((self._symbol, 0), (self._comment, 1), (self._external_id, 2)):
            column[rows] = _TEXTS.each(p[_TEXT + offset] for p in positions)

    def _take_all(self, positions: tuple[Any, ...]) -> bool:
        """Every row from ``positions``, when they are every open position in the book's order (a full answer):
        a column at a time. False (nothing taken) when they are not, or a number does not fit its column."""
        count = len(positions)
        if not np.array_equal(np.fromiter(map(_TICKET, positions), dtype=np.int64, count=count), self._tickets):
            return False
        numbers = np.empty(count, dtype=_NUMBERS)
        try:  # the integers (ticket ... reason), then volume, price_open, sl and tp: one pass each
            whole = np.fromiter(chain.from_iterable(map(_INTEGERS, positions)), dtype=np.int64, count=count * _FLOAT)
            real = np.fromiter(chain.from_iterable(map(_FLOATS, positions)), dtype=np.float64, count=count * 4)
        except (OverflowError, TypeError, ValueError):
            return False
        for at, name in enumerate(_FIELDS[:_PRICE]):
            numbers[name] = whole[at::_FLOAT] if at < _FLOAT else real[at - _FLOAT :: 4]
        self._numbers = numbers
        for column, at in ((self._symbol, _TEXT), (self._comment, _TEXT + 1), (self._external_id, _TEXT + 2)):
            values = list(map(itemgetter(at), positions))
            alike: dict[Any, Any] = {}
            column[:] = list(map(alike.setdefault, values, values))  # one object for equal strings
        self._odd = {}
        return True

    def _take_one(self, row: int, position: Any) -> None:
        ticket = int(position.ticket)
        try:
            self._numbers[row] = tuple(position[:_PRICE])
        except (OverflowError, TypeError, ValueError):
            self._odd[ticket] = TradePosition(*position)
        else:
            self._odd.pop(ticket, None)
