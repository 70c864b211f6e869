"""Where each trade of a table is, and its sort key for a live column, kept in arrays.

Every trade known to the trades model has a slot (reused after the trade leaves). Per slot: its ticket, its
sort key when the table is sorted by a live column (price, profit, R) and the row it is shown on (-1: not
shown). The rows shown are kept twice, as the tickets in order (read per painted cell) and as their slots.

So a trade's row is found by two lookups instead of a scan of the rows (a closed trade's row at 10,000 trades
took about 80 us to find), and a table sorted by profit is sorted again after a cycle's prices with one
stable argsort over a float column, skipped when the rows are already in order (in Python the keys alone
were a dictionary update through a method call per trade, 3 ms at 10,000 trades).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: the sort key of a trade without a value (sorts first ascending, last descending, as no value does elsewhere)
NO_KEY = float("-inf")
_FIRST_CAPACITY = 64


def field_keys(rows: Sequence[Mapping[str, Any]], field: str) -> np.ndarray:
    """Each row's ``field`` as a sort key: float64 read in C, a missing value (absent, None, NaN) as ``NO_KEY``."""
    try:
        out = np.fromiter(map(itemgetter(field), rows), dtype=np.float64, count=len(rows))
    except (KeyError, TypeError):  # a row without the value: taken one by one
        out = np.array([np.nan if (v := row.get(field)) is None else v for row in rows], dtype=np.float64)
    out[np.isnan(out)] = NO_KEY
    return out


class TicketKeys:
    """A row index's float sort keys read by ticket, for a binary search."""

    def __init__(self, index: RowIndex) -> None:
        self._index = index

    def __getitem__(self, ticket: int) -> float:
        return self._index.key_of(ticket)


class RowIndex:
    """Slots of the trades, the rows shown in order, and each slot's row."""

    def __init__(self) -> None:
        self.rows: list[int] = []  # the tickets shown, in order
        self.order = np.zeros(0, dtype=np.int64)  # their slots, in the same order
        self._slot: dict[int, int] = {}
        self._free: list[int] = []
        self._next = 0
        self.ticket = np.zeros(_FIRST_CAPACITY, dtype=np.int64)
        self.key = np.full(_FIRST_CAPACITY, NO_KEY)
        self.position = np.full(_FIRST_CAPACITY, -1, dtype=np.int64)
        self._cached: tuple[list[int], np.ndarray, np.ndarray] | None = None  # the last ``slots`` answer
        self._by_ticket: tuple[np.ndarray, np.ndarray] | None = None  # tickets sorted, and their slots

    # --- trades --------------------------------------------------------------------------------------

    def reset(self, tickets: Iterable[int]) -> None:
        """Slots for exactly these trades (their keys ``NO_KEY``), none shown."""
        tickets = list(tickets)
        capacity = max(_FIRST_CAPACITY, 2 * len(tickets))
        self.rows = []
        self.order = np.zeros(0, dtype=np.int64)
        self._slot = dict(zip(tickets, range(len(tickets)), strict=True))
        self._free = []
        self._next = len(tickets)
        self.ticket = np.zeros(capacity, dtype=np.int64)
        self.ticket[: len(tickets)] = tickets
        self.key = np.full(capacity, NO_KEY)
        self.position = np.full(capacity, -1, dtype=np.int64)
        self._cached = None
        self._by_ticket = None

    def add(self, ticket: int) -> int:
        slot = self._slot.get(ticket)
        if slot is not None:
            return slot
        if self._free:
            slot = self._free.pop()
        else:
            slot = self._next
            self._next += 1
            if slot >= len(self.ticket):
                self._grow()
        self._slot[ticket] = slot
        self.ticket[slot] = ticket
        self.key[slot] = NO_KEY
        self.position[slot] = -1
        self._cached = self._by_ticket = None
        return slot

    def drop(self, ticket: int) -> None:
        """Forget a trade no longer shown (``remove`` its row first)."""
        slot = self._slot.pop(ticket, None)
        if slot is None:
            return
        self.position[slot] = -1
        self.ticket[slot] = -1  # no ticket: a free slot is never found
        self._free.append(slot)
        self._cached = self._by_ticket = None

    def slot(self, ticket: int) -> int | None:
        return self._slot.get(ticket)

    def slots(self, tickets: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The slots of ``tickets`` and where they have one (elsewhere the slot is meaningless). Found by a
        binary search in the sorted tickets (a dictionary lookup per ticket in the program's large heap took
        four times as long); the same tickets in the same order as last time reuse the last answer."""
        cached = self._cached
        if cached is not None and cached[0] == tickets:
            return cached[1], cached[2]
        if self._by_ticket is None:
            used = self.ticket[: self._next]
            by_ticket = np.argsort(used, kind="stable")
            self._by_ticket = (used[by_ticket], by_ticket)
        ordered, slot_of = self._by_ticket
        if not len(ordered):
            return np.full(len(tickets), -1, dtype=np.int64), np.zeros(len(tickets), dtype=bool)
        wanted = np.array(tickets, dtype=np.int64)
        found = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
        known = ordered[found] == wanted
        slots = slot_of[found]
        self._cached = (tickets, slots, known)
        return slots, known

    # --- rows shown ----------------------------------------------------------------------------------

    def row_of(self, ticket: int) -> int | None:
        slot = self._slot.get(ticket)
        if slot is None:
            return None
        row = int(self.position[slot])
        return None if row < 0 else row

    def shown_row(self, ticket: int) -> int:
        """The row of a trade known to be shown."""
        return int(self.position[self._slot[ticket]])

    def set_rows(self, rows: list[int]) -> None:
        """Show exactly ``rows`` (tickets with slots), in this order."""
        self.set_order(rows, np.fromiter(map(self._slot.__getitem__, rows), dtype=np.int64, count=len(rows)))

    def set_order(self, rows: list[int], order: np.ndarray) -> None:
        """``rows`` and their slots ``order``."""
        self.position[self.order] = -1
        self.rows = rows
        self.order = order
        self.position[order] = np.arange(len(order))

    def insert(self, row: int, ticket: int) -> None:
        slot = self._slot[ticket]
        self.rows.insert(row, ticket)
        self.order = np.insert(self.order, row, slot)
        self.position[self.order[row:]] = np.arange(row, len(self.order))

    def remove(self, row: int) -> int:
        """Take row ``row`` out; returns its ticket."""
        ticket = self.rows.pop(row)
        self.position[self.order[row]] = -1
        self.order = np.delete(self.order, row)
        self.position[self.order[row:]] = np.arange(row, len(self.order))
        return ticket

    # --- live sort keys ------------------------------------------------------------------------------

    def set_keys(self, slots: np.ndarray, values: np.ndarray) -> None:
        self.key[slots] = values

    def update_keys(self, tickets: list[int], values: np.ndarray) -> list[int]:
        """Set the keys of ``tickets`` (those with a slot) to ``values`` (NaN: no value); returns the positions
        in ``tickets`` of those whose key changed."""
        if not tickets:
            return []
        slots, known = self.slots(tickets)
        values[np.isnan(values)] = NO_KEY
        moved = np.flatnonzero(known & (self.key[np.where(known, slots, 0)] != values))
        self.key[slots[moved]] = values[moved]
        result: list[int] = moved.tolist()
        return result

    def set_key(self, ticket: int, value: float) -> None:
        self.key[self._slot[ticket]] = value

    def key_of(self, ticket: int) -> float:
        slot = self._slot.get(ticket)
        return NO_KEY if slot is None else float(self.key[slot])

    def ordered_by_key(self, tickets: Sequence[int], descending: bool) -> list[int]:
        """``tickets`` sorted by their live keys; equal keys keep their order in ``tickets``."""
        slots = np.fromiter(map(self._slot.__getitem__, tickets), dtype=np.int64, count=len(tickets))
        keys = self.key[slots]
        permutation = np.argsort(-keys if descending else keys, kind="stable")
        return self.ticket[slots[permutation]].tolist()

    def resorted(self, descending: bool) -> tuple[list[int], np.ndarray] | None:
        """The rows shown sorted again by their live keys (equal keys keep their order) and their slots;
        None when they are in order already."""
        keys = self.key[self.order]
        if descending:
            keys = -keys
        if len(keys) < 2 or not (keys[1:] < keys[:-1]).any():
            return None
        order = self.order[np.argsort(keys, kind="stable")]
        return self.ticket[order].tolist(), order

    def _grow(self) -> None:
        size = 2 * len(self.ticket)
        self.ticket = np.resize(self.ticket, size)
        self.key = np.concatenate([self.key, np.full(size - len(self.key), NO_KEY)])
        self.position = np.concatenate([self.position, np.full(size - len(self.position), -1, dtype=np.int64)])
