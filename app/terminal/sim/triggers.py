"""Price levels the trade server watches: stop losses, take profits, pending order prices, expirations.

Each level sits in a heap ordered by how soon the price reaches it, so checking which levels a price range
touched costs O(touched * log n), not a scan of every position: ten thousand open positions do not slow
the call that happens to bring the market forward.
"""

from __future__ import annotations

import heapq
from enum import StrEnum


class TriggerKind(StrEnum):
    BUY_SL = "buy_sl"  # a BUY position's stop loss: the bid falls to it
    BUY_TP = "buy_tp"  # the bid rises to it
    SELL_SL = "sell_sl"  # a SELL position's stop loss: the ask rises to it
    SELL_TP = "sell_tp"  # the ask falls to it
    BUY_LIMIT = "buy_limit"  # the ask falls to it
    SELL_LIMIT = "sell_limit"  # the bid rises to it
    BUY_STOP = "buy_stop"  # the ask rises to it
    SELL_STOP = "sell_stop"  # the bid falls to it


#: kind -> (watches the ask, fires when the price rises to the level)
_SIDES: dict[TriggerKind, tuple[bool, bool]] = {
    TriggerKind.BUY_SL: (False, False),
    TriggerKind.BUY_TP: (False, True),
    TriggerKind.SELL_SL: (True, True),
    TriggerKind.SELL_TP: (True, False),
    TriggerKind.BUY_LIMIT: (True, False),
    TriggerKind.SELL_LIMIT: (False, True),
    TriggerKind.BUY_STOP: (True, True),
    TriggerKind.SELL_STOP: (False, False),
}

#: Kinds that fire when the price rises to their level (the others fire when it falls to it).
RISING = frozenset(kind for kind, (_, rising) in _SIDES.items() if rising)

#: Stops are checked before pending orders, so a range closes what was open before it opens anything.
_ORDER = tuple(TriggerKind)


class _LevelHeap:
    """Levels of one kind on one symbol, nearest to firing first; stale entries are skipped lazily."""

    __slots__ = ("_heap", "_rising")

    def __init__(self, rising: bool) -> None:
        self._heap: list[tuple[float, int]] = []
        self._rising = rising

    def push(self, level: float, ticket: int) -> None:
        heapq.heappush(self._heap, (level if self._rising else -level, ticket))

    def pop_touched(self, extreme: float, live: dict[int, float]) -> list[tuple[int, float]]:
        touched: list[tuple[int, float]] = []
        heap = self._heap
        while heap:
            key, ticket = heap[0]
            level = key if self._rising else -key
            if live.get(ticket) != level:
                heapq.heappop(heap)
                continue
            if (level > extreme) if self._rising else (level < extreme):
                break
            heapq.heappop(heap)
            del live[ticket]  # fired once; a duplicate entry for the same level is now stale
            touched.append((ticket, level))
        return touched

    def compact(self, live: dict[int, float], limit: int) -> None:
        if len(self._heap) <= limit:
            return
        sign = 1.0 if self._rising else -1.0
        self._heap = [(key, ticket) for key, ticket in self._heap if live.get(ticket) == key * sign]
        heapq.heapify(self._heap)


class Triggers:
    """Every watched level of the broker, by symbol and kind, plus pending-order expirations."""

    def __init__(self) -> None:
        self._live: dict[TriggerKind, dict[int, float]] = {kind: {} for kind in TriggerKind}
        self._heaps: dict[str, dict[TriggerKind, _LevelHeap]] = {}
        self._expiry: list[tuple[int, int]] = []
        self._expiry_live: dict[int, int] = {}

    def set(self, kind: TriggerKind, symbol: str, ticket: int, level: float) -> None:
        """Watch ``level`` for ``ticket`` (replacing an earlier one); a level of 0 stops watching."""
        live = self._live[kind]
        if level <= 0.0:
            live.pop(ticket, None)
            return
        if live.get(ticket) == level:
            return
        live[ticket] = level
        heaps = self._heaps.get(symbol)
        if heaps is None:
            heaps = self._heaps[symbol] = {k: _LevelHeap(_SIDES[k][1]) for k in TriggerKind}
        heap = heaps[kind]
        heap.push(level, ticket)
        heap.compact(live, 2 * len(live) + 64)

    def remove(self, kind: TriggerKind, ticket: int) -> None:
        self._live[kind].pop(ticket, None)

    def symbols(self) -> list[str]:
        return list(self._heaps)

    def touched(
        self, symbol: str, low_bid: float, high_bid: float, low_ask: float, high_ask: float
    ) -> list[tuple[TriggerKind, int, float]]:
        """Levels the range reached, stops first; each fires once (it is no longer watched afterwards)."""
        heaps = self._heaps.get(symbol)
        if heaps is None:
            return []
        hits: list[tuple[TriggerKind, int, float]] = []
        for kind in _ORDER:
            on_ask, rising = _SIDES[kind]
            if on_ask:
                extreme = high_ask if rising else low_ask
            else:
                extreme = high_bid if rising else low_bid
            for ticket, level in heaps[kind].pop_touched(extreme, self._live[kind]):
                hits.append((kind, ticket, level))
        return hits

    def set_expiry(self, ticket: int, at: int) -> None:
        """Expire pending order ``ticket`` at server time ``at`` (0 = never)."""
        if at <= 0:
            self._expiry_live.pop(ticket, None)
            return
        self._expiry_live[ticket] = at
        heapq.heappush(self._expiry, (at, ticket))

    def expired(self, now: float) -> list[int]:
        due: list[int] = []
        while self._expiry and self._expiry[0][0] <= now:
            at, ticket = heapq.heappop(self._expiry)
            if self._expiry_live.get(ticket) == at:
                del self._expiry_live[ticket]
                due.append(ticket)
        return due
