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

from app.sharing import Shared
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
_TAILS: Shared[tuple[str, str, str], tuple[str, str, str]] = Shared(4096)


def _tail(p: Position) -> tuple[str, str, str]:
    tail = (p.symbol, p.comment, p.external_id)
    return _TAILS.get(tail, lambda: tail)


_NUMBERS: list[int] = []


def _numbers(count: int) -> list[int]:
    """Row numbers from 0, the same int objects for every rebuild (at least ``count`` of them)."""
    if len(_NUMBERS) < count:
        _NUMBERS.extend(range(len(_NUMBERS), max(count, 2 * len(_NUMBERS))))
    return _NUMBERS


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
        self._row_of: dict[int, int] = {}  # ticket -> row of the columns, for positions unchanged since built
        self._stale = True
        self._heads: list[tuple] = []
        self._tails: list[tuple] = []
        self._swaps: list[float] = []
        self._names: list[str] = []
        self._symbols: list[str] = []  # distinct symbols, indexed by _symbol_index
        self._symbol_index = np.empty(0, dtype=np.int64)
        self._opens = self._volumes = self._signs = np.empty(0)

    def touch(self, ticket: int) -> None:
        """A position was opened, changed or closed."""
        self._row_of.pop(ticket, None)
        self._stale = True

    def _rebuild(self) -> None:
        """The columns in the positions' order: an unchanged position's row is taken from the columns built last,
        a new or changed one is prepared from its record (only the columns are kept, no tuple per position)."""
        positions = self._positions
        tickets = list(positions)
        count = len(tickets)
        known = self._row_of
        source = [known.get(ticket, -1) for ticket in tickets]
        fresh = [i for i, row in enumerate(source) if row < 0]
        with _collector_paused():
            if len(fresh) == count:
                heads, tails, swaps, names = [], [], [], []
                take = np.zeros(count, dtype=np.int64)
            else:
                old_heads, old_tails, old_swaps, old_names = self._heads, self._tails, self._swaps, self._names
                heads = [old_heads[row] for row in source]  # -1 (a fresh row) takes a stand-in, replaced below
                tails = [old_tails[row] for row in source]
                swaps = [old_swaps[row] for row in source]
                names = [old_names[row] for row in source]
                take = np.array(source, dtype=np.int64)
            if len(fresh) == count:
                for p in positions.values():
                    heads.append(_head(p))
                    tails.append(_tail(p))
                    swaps.append(p.swap)
                    names.append(p.symbol)
            else:
                for i in fresh:
                    p = positions[tickets[i]]
                    heads[i], tails[i], swaps[i], names[i] = _head(p), _tail(p), p.swap, p.symbol
        if len(fresh) == count:
            opens, volumes, signs = np.empty(count), np.empty(count), np.empty(count)
        else:
            opens, volumes, signs = self._opens[take], self._volumes[take], self._signs[take]
        if fresh:
            fresh_positions = [positions[tickets[i]] for i in fresh]
            opens[fresh] = [p.price_open for p in fresh_positions]
            volumes[fresh] = [p.volume for p in fresh_positions]
            signs[fresh] = [1.0 if p.type == c.POSITION_TYPE_BUY else -1.0 for p in fresh_positions]
        self._symbols = list(dict.fromkeys(names))
        lookup = {name: i for i, name in enumerate(self._symbols)}
        self._symbol_index = np.array([lookup[name] for name in names], dtype=np.int64)
        self._heads, self._tails, self._swaps, self._names = heads, tails, swaps, names
        self._opens, self._volumes, self._signs = opens, volumes, signs
        self._row_of = dict(zip(tickets, _numbers(count)))
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
