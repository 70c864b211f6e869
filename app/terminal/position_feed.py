"""Open positions as changes since the last answer, for a fast cycle that reads them every second.

The worker keeps, per feed, a hash of each position's unchanging part as last sent (everything but
``price_current``, ``swap`` and ``profit``). An answer carries every open ticket with its moving numbers as
numpy arrays (copied, not pickled one by one) and, as whole ``TradePosition`` tuples, only the positions that
are new or changed otherwise. The parent names the answer it last applied (``since``); if that is not the
feed's last answer (a reply was lost, the worker restarted), the answer is full: every position comes whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np

from app.terminal.convert import to_plain
from app.terminal.structs import TradePosition

#: (feed id, answer number) of the answer a parent applied last
Cursor = tuple[int, int]

_PRICE, _SWAP, _PROFIT = (TradePosition._fields.index(name) for name in ("price_current", "swap", "profit"))
_MOVING = itemgetter(_PRICE, _SWAP, _PROFIT)
_TICKET = itemgetter(0)


class PositionChanges(NamedTuple):
    feed: int
    seq: int
    #: True: ``changed`` holds every open position and replaces whatever the parent knew
    full: bool
    #: every open position's ticket, in the terminal's order, and its moving numbers in the same order
    tickets: np.ndarray
    price_current: np.ndarray
    swap: np.ndarray
    profit: np.ndarray
    #: positions new since ``since`` or changed apart from their moving numbers
    changed: tuple[TradePosition, ...]

    @property
    def cursor(self) -> Cursor:
        return (self.feed, self.seq)


def _static(position: tuple) -> tuple:
    return position[:_PRICE] + position[_PROFIT + 1 :]


class PositionFeed:
    """One terminal's position answers, kept where the terminal runs (the worker, or the in-process transport)."""

    def __init__(self) -> None:
        self.id = int.from_bytes(os.urandom(6), "big")  # a restarted worker never continues an old cursor
        self._seq = 0
        self._tickets = np.empty(0, dtype=np.int64)
        # a hash of each position's unchanging part is kept, not the part itself (10,000 positions: 80 kB
        # instead of megabytes); two different parts hashing alike is a 1 in 2**64 chance
        self._hashes = np.empty(0, dtype=np.int64)

    def changes(self, positions: tuple[Any, ...], since: Cursor | None) -> PositionChanges:
        """``positions``: what the terminal's ``positions_get()`` answered (its structs, or TradePosition)."""
        full = since != (self.id, self._seq)
        count = len(positions)
        tickets = np.fromiter(map(_TICKET, positions), dtype=np.int64, count=count)
        hashes = np.fromiter(map(hash, map(_static, positions)), dtype=np.int64, count=count)
        if full:
            rows: Iterable[int] = range(count)
        elif np.array_equal(tickets, self._tickets):  # the usual cycle: the same positions, in the same order
            rows = np.flatnonzero(hashes != self._hashes).tolist()
        else:  # positions came or went: each ticket's hash is found among the last answer's, sorted once
            order = np.argsort(self._tickets, kind="stable")
            known = self._tickets[order]
            at = np.minimum(np.searchsorted(known, tickets), max(len(known) - 1, 0))
            if len(known):
                same = (known[at] == tickets) & (self._hashes[order][at] == hashes)
            else:
                same = np.zeros(count, dtype=bool)
            rows = np.flatnonzero(~same).tolist()
        # the terminal's own structs are read by index as they are; only the changed ones are converted
        changed = to_plain(tuple(positions[i] for i in rows))
        self._tickets, self._hashes = tickets, hashes
        self._seq += 1
        moving = np.fromiter(chain.from_iterable(map(_MOVING, positions)), dtype=np.float64, count=3 * count)
        moving = moving.reshape(count, 3)
        return PositionChanges(
            feed=self.id,
            seq=self._seq,
            full=full,
            tickets=tickets,
            price_current=np.ascontiguousarray(moving[:, 0]),
            swap=np.ascontiguousarray(moving[:, 1]),
            profit=np.ascontiguousarray(moving[:, 2]),
            changed=changed,
        )
