"""``GET /dtms/trades`` as JSON built from rows kept per trade, with paging and filters.

A trade's row (everything ``views.trade_info`` says but the live ``profit_r``) is rendered once and kept until
one of the fields it shows changes; each answer only splices the live ``profit_r`` in. Pages follow the
ticket order with the last ticket of a page as the cursor of the next, so a trade open across the pages is
listed exactly once however many others open or close meanwhile. The full list is built in slices that hand
the event loop back at least every ``SLICE_S`` seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import operator
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.api import schemas, views
from app.engine.model import Trade

#: longest the event loop is held while a list is built before it is handed back
SLICE_S = 0.002
_CHECK_EVERY = 8  # rows between clock reads
_JOIN_ON_LOOP = 1000  # rows up to which the answer is joined on the loop (about 450 kB)
_ROW_FIELDS = tuple(name for name in schemas.TradeInfo.model_fields if name != "profit_r")
_TRADE_FIELDS = tuple(f.name for f in dataclasses.fields(Trade))
#: what a row is kept by: the trade's fields the row shows, or all of them when the row shows something
#: ``views.trade_info`` works out from them
_KEY_FIELDS = _ROW_FIELDS if set(_ROW_FIELDS) <= set(_TRADE_FIELDS) else _TRADE_FIELDS
_MARK = "\x00profit_r\x00"
_MARK_JSON = json.dumps(_MARK)


def _dumps(value: Any) -> str:
    # what FastAPI's JSONResponse writes
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeQuery:
    limit: int | None = None
    cursor: int | None = None  # the last ticket of the previous page
    state: str | None = None
    symbol: str | None = None

    @property
    def filtered(self) -> bool:
        return self.state is not None or self.symbol is not None

    def wants(self, trade: Trade) -> bool:
        if self.state is not None and trade.state.value != self.state:
            return False
        return self.symbol is None or trade.symbol.upper() == self.symbol.upper()


#: the fields most trades show alike (state, owner, flags): their values are kept as one tuple shared by every row
#: with those values; the others (prices, times, ticket) in the row's own tuple
_ALIKE_FIELDS = tuple(
    name
    for name in _KEY_FIELDS
    if name in {"symbol", "direction", "state", "synthetic_r", "managed_by", "strategy_type", "source", "magic",
                "comment", "breakeven_triggered", "partial_taken", "last_action", "active"}
)  # fmt: skip
_OWN_FIELDS = tuple(name for name in _KEY_FIELDS if name not in _ALIKE_FIELDS)
_OWN = len(_OWN_FIELDS)
_ALIKE_KEPT = 4096


class TradeRows:
    """Rendered rows of the trade list, one per ticket, kept until the trade changes.

    A row is kept as one flat tuple: the values it was rendered from (what it is kept by: its own, then the
    shared tuple of those most trades have alike), then its JSON before and after ``profit_r``'s value. At 10,000
    trades a key tuple of every value inside a triple held 1.6 MB more."""

    def __init__(self) -> None:
        self._own = operator.attrgetter(*_OWN_FIELDS)
        self._alike = operator.attrgetter(*_ALIKE_FIELDS)
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._rows: dict[int, tuple[Any, ...]] = {}
        self.rendered = 0  # rows rendered (not taken from the cache), for tests and benchmarks

    def row(self, trade: Trade, quote: views.Quote | None) -> bytes:
        head, number, tail = self.pieces(trade, quote)
        return head + number + tail

    def pieces(self, trade: Trade, quote: views.Quote | None) -> tuple[bytes, bytes, bytes]:
        """The row's JSON in three pieces: the kept text before ``profit_r``'s value, the value, the kept rest."""
        own = self._own(trade)
        alike = self._alike(trade)
        cached = self._rows.get(trade.ticket)
        if cached is None or cached[:_OWN] != own or cached[_OWN] != alike:
            info = views.trade_info(trade, None).model_dump(mode="json")
            info["profit_r"] = _MARK
            head, tail = _dumps(info).split(_MARK_JSON)
            shared = self._shared.get(alike)
            if shared is None:
                if len(self._shared) >= _ALIKE_KEPT:
                    self._shared.clear()
                shared = self._shared[alike] = alike
            cached = (*own, shared, head.encode(), tail.encode())
            self._rows[trade.ticket] = cached
            self.rendered += 1
        profit_r = views._profit_r(trade, quote)
        # a finite float as the JSON encoder writes it (float.__repr__, numpy's float64 included)
        number = b"null" if profit_r is None else float.__repr__(profit_r).encode()
        return cached[_OWN + 1], number, cached[_OWN + 2]

    def prune(self, keep: Callable[[int], bool]) -> None:
        """Forget the rows of trades no longer listed."""
        self._rows = {ticket: row for ticket, row in self._rows.items() if keep(ticket)}

    def __len__(self) -> int:
        return len(self._rows)


async def build_page(
    rows: TradeRows,
    tickets: Sequence[int],
    lookup: Callable[[int], Trade | None],
    quote: Callable[[Trade], views.Quote | None],
    query: TradeQuery,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> bytes:
    """The answer's JSON: ``trades`` from ``tickets`` (ascending) after the cursor, ``count``, ``total``
    (every listed trade matching the filters) and ``next_cursor`` (None on the last page).

    The loop is handed back whenever ``SLICE_S`` of ``clock`` went by (read every ``_CHECK_EVERY`` tickets),
    rows rendered for the first time included; the answer is joined once, from the rows' pieces."""
    start = bisect_right(tickets, query.cursor) if query.cursor is not None else 0
    limit = query.limit if query.limit is not None else len(tickets) + 1
    pieces: list[bytes] = [b'{"trades":[']
    count = 0
    last = None
    more = False
    total = 0 if query.filtered else None
    began = clock()
    for index in range(start if total is None else 0, len(tickets)):
        if index % _CHECK_EVERY == 0 and clock() - began > SLICE_S:
            await asyncio.sleep(0)
            began = clock()
        trade = lookup(tickets[index])
        if trade is None or not query.wants(trade):
            continue
        if total is not None:
            total += 1
            if index < start:
                continue
        if count < limit:
            if count:
                pieces.append(b",")
            pieces.extend(rows.pieces(trade, quote(trade)))
            count += 1
            last = trade.ticket
        else:
            more = True
            if total is None:
                break
    if total is None:
        total = len(tickets)
    cursor = str(last) if more and last is not None else None
    pieces += (b'],"count":', str(count).encode(), b',"total":', str(total).encode())
    pieces += (b',"next_cursor":', _dumps(cursor).encode(), b"}")
    if count < _JOIN_ON_LOOP:
        return b"".join(pieces)
    # megabytes: the copy (and the fresh memory's page faults) took 4-6 ms at 10,000 rows; bytes.join lets
    # the loop run meanwhile when it is done on another thread (it releases the GIL above 1 MB)
    return await asyncio.get_running_loop().run_in_executor(None, b"".join, pieces)
