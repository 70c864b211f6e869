"""``positions_get`` for a large book: rows prepared once per change, current prices applied in bulk.

Each position's unchanging part (ticket ... tp, and symbol, comment, external id) is kept as ready tuples;
price_current and profit are computed for all positions at once with numpy, and the result tuples are put
together by C-level iteration. Ten thousand positions then cost a few milliseconds, not a Python loop of
struct constructions.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import compress, repeat
from operator import add

import numpy as np

from app.terminal import constants as c
from app.terminal.sim.clock import seconds_of
from app.terminal.sim.records import Position
from app.terminal.structs import TradePosition

#: symbol -> (bid, ask, profit per price unit and lot in the account currency)
Prices = Mapping[str, tuple[float, float, float]]

_new = tuple.__new__


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Tens of thousands of fresh tuples would trigger the cyclic collector over and over (it then costs
    more than building them); none of them can form a cycle, so it waits until they are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _head(p: Position) -> tuple:
    return (p.ticket, seconds_of(p.time_msc), p.time_msc, seconds_of(p.time_update_msc), p.time_update_msc, p.type,
            p.magic, p.identifier, p.reason, p.volume, p.price_open, p.sl, p.tp)  # fmt: skip


#: the (symbol, comment, external id) of positions, one tuple for all positions alike
_TAILS: dict[tuple[str, str, str], tuple[str, str, str]] = {}
_TAILS_KEPT = 4096


def _tail(p: Position) -> tuple[str, str, str]:
    tail = (p.symbol, p.comment, p.external_id)
    shared = _TAILS.get(tail)
    if shared is None:
        if len(_TAILS) >= _TAILS_KEPT:
            _TAILS.clear()
        shared = _TAILS[tail] = tail
    return shared


def _part(parts: dict[int, tuple], p: Position) -> tuple:
    """What the table keeps of a position between changes."""
    part = parts[p.ticket] = (
        _head(p), _tail(p), p.swap, p.price_open, p.volume,
        1.0 if p.type == c.POSITION_TYPE_BUY else -1.0, p.symbol,
    )  # fmt: skip
    return part


def profit(position: Position, bid: float, ask: float, factor: float) -> tuple[float, float]:
    """(price_current, profit) of one position, computed exactly as the bulk path does."""
    if position.type == c.POSITION_TYPE_BUY:
        close, sign = bid, 1.0
    else:
        close, sign = ask, -1.0
    return close, round((close - position.price_open) * sign * position.volume * factor * 100.0) / 100.0


class PositionTable:
    def __init__(self, positions: dict[int, Position]) -> None:
        self._positions = positions
        self._parts: dict[int, tuple] = {}
        self._stale = True
        self._heads: list[tuple] = []
        self._tails: list[tuple] = []
        self._swaps: list[float] = []
        self._symbols: list[str] = []  # distinct symbols, indexed by _symbol_index
        self._symbol_index = np.empty(0, dtype=np.int64)
        self._opens = self._volumes = self._signs = np.empty(0)

    def touch(self, ticket: int) -> None:
        """A position was opened, changed or closed."""
        self._parts.pop(ticket, None)
        self._stale = True

    def _rebuild(self) -> None:
        parts = self._parts
        with _collector_paused():
            rows = [parts.get(ticket) or _part(parts, position) for ticket, position in self._positions.items()]
            columns = tuple(zip(*rows, strict=True)) if rows else ((),) * 7
        heads, tails, swaps, opens, volumes, signs, names = columns
        self._symbols = list(dict.fromkeys(names))
        lookup = {name: i for i, name in enumerate(self._symbols)}
        self._symbol_index = np.array([lookup[name] for name in names], dtype=np.int64)
        self._heads, self._tails, self._swaps = list(heads), list(tails), list(swaps)
        self._opens, self._volumes, self._signs = np.array(opens), np.array(volumes), np.array(signs)
        self._stale = False

    def symbols(self) -> list[str]:
        if self._stale:
            self._rebuild()
        return self._symbols

    def _valued(self, prices: Prices) -> tuple[np.ndarray, np.ndarray]:
        """price_current and profit (rounded to cents) of every position, in table order."""
        if self._stale:
            self._rebuild()
        table = np.array([prices[name] for name in self._symbols]).reshape(-1, 3)
        index = self._symbol_index
        close = np.where(self._signs > 0, table[index, 0], table[index, 1])
        profits = np.rint((close - self._opens) * self._signs * self._volumes * table[index, 2] * 100.0) / 100.0
        return close, profits

    def total_profit(self, prices: Prices) -> float:
        """The sum of every position's (rounded) profit, as the account shows it."""
        return float(self._valued(prices)[1].sum()) if self._positions else 0.0

    def rows(self, prices: Prices, symbols: Callable[[str], bool] | None = None) -> tuple[TradePosition, ...]:
        """Every open position (or those whose symbol passes ``symbols``) with current price and profit;
        ``prices`` covers every symbol of ``symbols()``."""
        if not self._positions:
            return ()
        close, profits = self._valued(prices)
        with _collector_paused():
            middles = zip(close.tolist(), self._swaps, profits.tolist(), strict=True)
            rows: Iterable[tuple] = map(add, map(add, self._heads, middles), self._tails)
            if symbols is not None:
                wanted = np.array([symbols(name) for name in self._symbols], dtype=bool)
                rows = compress(rows, wanted[self._symbol_index].tolist())
            return tuple(map(_new, repeat(TradePosition), rows))
