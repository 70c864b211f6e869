"""Trades whose management ended today (terminal day), in two kinds kept apart: **closed** (the position is
gone in MT5: its volume, money and R are final) and **released** (DTMS stopped managing it; the position is
still open in MT5, so it has no result yet). Closed trades come first; the day's total counts only them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.engine.model import DefensiveState, Direction, Trade
from app.engine.prices import price_text
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import money_colour, state_colour
from app.views.table_order import SEARCH_ROLE, reorder, value_key
from app.views.trades_model import terminal_time_text

logger = logging.getLogger(__name__)

DAY_S = 86_400
Index = QModelIndex | QPersistentModelIndex
CLOSED, RELEASED = "Closed", "Released"
#: account money per 1.0 price move of one lot of a symbol (None when the terminal cannot say)
SymbolValue = Callable[[str], Awaitable[float | None]]


class ClosedColumn(IntEnum):
    TICKET = 0
    SYMBOL = 1
    DIRECTION = 2
    ENDED = 3
    VOLUME = 4
    ENTRY = 5
    CLOSE_PRICE = 6
    PROFIT = 7
    PROFIT_R = 8
    REASON = 9
    CLOSED_AT = 10


_SEARCHED = (ClosedColumn.TICKET, ClosedColumn.SYMBOL, ClosedColumn.DIRECTION, ClosedColumn.ENDED, ClosedColumn.REASON)
CLOSED_HEADERS = ("Ticket", "Symbol", "Side", "Ended", "Volume", "Entry", "Close", "Profit", "R", "Reason", "At")
_TIPS = {
    ClosedColumn.ENDED: "Closed: the position is gone in MT5. Released: DTMS stopped managing it; it is still "
    "open in MT5 and has no result yet",
    ClosedColumn.VOLUME: "Volume closed (partial closes included); for a released trade, the volume still open",
    ClosedColumn.PROFIT: "The position's result in account money (every deal, partial closes included)",
    ClosedColumn.PROFIT_R: "The result in R: money divided by the money at risk at the start (entry to first SL)",
    ClosedColumn.CLOSED_AT: "When management ended, in terminal (server) time",
}
#: hidden until the trader shows them from the header's menu
CLOSED_HIDDEN = frozenset({ClosedColumn.ENTRY, ClosedColumn.CLOSE_PRICE})
#: columns drawn in a result's colour
CLOSED_COLOURED = frozenset({ClosedColumn.PROFIT, ClosedColumn.PROFIT_R})
#: the widest text each column must show uncut
CLOSED_WIDEST: dict[int, str] = {
    ClosedColumn.TICKET: "999999999",
    ClosedColumn.SYMBOL: "EURUSD.m",
    ClosedColumn.DIRECTION: "SELL",
    ClosedColumn.ENDED: "Released",
    ClosedColumn.VOLUME: "99.99 (9.99 partial)",
    ClosedColumn.PROFIT: "-99,999.99",
    ClosedColumn.PROFIT_R: "-99.99",
    ClosedColumn.CLOSED_AT: "00:00:00",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DayTotal:
    closed: int
    profit: float
    r: float
    released: int

    def text(self) -> str:
        trades = f"{self.closed} trade{'' if self.closed == 1 else 's'}"
        text = f"Closed today: {trades}, {self.profit:+z,.2f} ({self.r:+z.2f} R)"
        if self.released:
            text += f"   Released: {self.released} (still open in MT5, no longer protected by DTMS; not in the total)"
        return text


def profit_r(trade: Trade, value: float | None) -> float | None:
    """The closed result in R: money over the money first at risk; from prices when the value is unknown."""
    volume = trade.initial_volume or trade.volume
    if trade.r <= 0:
        return None
    if value and trade.close_profit is not None and volume > 0:
        return trade.close_profit / (trade.r * volume * value)
    if trade.close_price is None or volume != trade.volume:  # partial closes at other prices
        return None
    sign = 1 if trade.direction is Direction.BUY else -1
    return sign * (trade.close_price - trade.entry) / trade.r


def row_values(trade: Trade, value: float | None) -> tuple[Any, ...]:
    """The columns' values, then the volume closed by partial closes before the end."""
    closed = trade.state is DefensiveState.CLOSED
    partial = max(0.0, round((trade.initial_volume or trade.volume) - trade.volume, 8))
    volume = trade.volume + partial if closed else trade.volume
    return (
        trade.ticket,
        trade.symbol,
        trade.direction.value,
        CLOSED if closed else RELEASED,
        volume,
        trade.entry,
        trade.close_price if closed else None,
        trade.close_profit if closed else None,
        profit_r(trade, value) if closed else None,
        trade.close_reason or "",
        trade.closed_at,
        partial,
    )


class ClosedTradesModel(QAbstractTableModel):
    """Loaded with ``await load()``, and again when the terminal's day changes; each ``trade_closed``/
    ``trade_unregistered`` adds the stored record.
    ``symbol_value`` gives a symbol's money per price and lot (for R); without it R comes from prices."""

    def __init__(
        self, bridge: EngineBridge, parent: QObject | None = None, *, symbol_value: SymbolValue | None = None
    ) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._symbol_value = symbol_value
        self._values: dict[str, float | None] = {}
        self._rows: list[tuple[Any, ...]] = []
        self._sort_column = -1
        self._descending = False
        self._tasks = TaskKeeper("closed-trades")
        self._day: float | None = None  # the start of the terminal day the table holds, once loaded
        bridge.trade_closed.connect(self._on_ended)
        bridge.trade_unregistered.connect(self._on_ended)
        bridge.cycle.connect(self._on_cycle)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ClosedColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return CLOSED_HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _TIPS.get(ClosedColumn(section))
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = ClosedColumn(index.column())
        value = row[column]
        if role == SEARCH_ROLE:
            return " ".join(str(row[c]) for c in _SEARCHED)
        released = row[ClosedColumn.ENDED] == RELEASED
        if role == Qt.ItemDataRole.ForegroundRole:
            if released:
                return state_colour(DefensiveState.CLOSED)
            if column in (ClosedColumn.PROFIT, ClosedColumn.PROFIT_R) and value:
                return money_colour(value)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and released:
            return "Released: DTMS no longer manages this position; it is still open in MT5"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = column in (ClosedColumn.SYMBOL, ClosedColumn.DIRECTION, ClosedColumn.ENDED, ClosedColumn.REASON)
            return int(
                (Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
            )
        if role != Qt.ItemDataRole.DisplayRole or value is None:
            return None
        if column is ClosedColumn.CLOSED_AT:
            return terminal_time_text(value)
        if column is ClosedColumn.PROFIT:
            return f"{value:z,.2f}"
        if column is ClosedColumn.PROFIT_R:
            return f"{value:+z.2f}"
        if column is ClosedColumn.VOLUME:
            partial = row[-1]
            return f"{value:g} ({partial:g} partial)" if partial and not released else f"{value:g}"
        if column in (ClosedColumn.ENTRY, ClosedColumn.CLOSE_PRICE):
            return price_text(value, self._engine.market.digits(row[ClosedColumn.SYMBOL]))
        return str(value)

    def tickets(self) -> list[int]:
        return [row[ClosedColumn.TICKET] for row in self._rows]

    def total(self) -> DayTotal:
        closed = [row for row in self._rows if row[ClosedColumn.ENDED] == CLOSED]
        return DayTotal(
            closed=len(closed),
            profit=sum(row[ClosedColumn.PROFIT] or 0.0 for row in closed),
            r=sum(row[ClosedColumn.PROFIT_R] or 0.0 for row in closed),
            released=len(self._rows) - len(closed),
        )

    async def load(self) -> None:
        """Every trade whose management ended since the start of the terminal's current day."""
        now = self._engine.clock.now()
        self._day = now - now % DAY_S
        trades = await self._engine.repository.load_closed_since(self._day)
        for symbol in {t.symbol for t in trades}:
            await self._engine.market.learn(symbol)  # prices at its digits, though no trade of it is open now
        rows = [row_values(t, await self._value(t.symbol)) for t in trades]
        self.beginResetModel()
        self._rows = self._ordered(rows)
        self.endResetModel()

    async def add(self, ticket: int) -> None:
        trade = await self._engine.find_trade(ticket)
        if trade is None or trade.active or ticket in self.tickets():
            return
        await self._engine.market.learn(trade.symbol)
        values = row_values(trade, await self._value(trade.symbol))
        row = self._ordered([*self._rows, values]).index(values)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, values)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        rows = self._ordered(self._rows)
        tickets = [row[ClosedColumn.TICKET] for row in rows]
        reorder(self, self.tickets(), tickets, lambda: setattr(self, "_rows", rows))

    def _ordered(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``rows`` with the closed trades first and the released after them, each group in the table's sort
        order (while no column is chosen, in the order management ended)."""
        column = self._sort_column
        groups = (
            [r for r in rows if r[ClosedColumn.ENDED] == CLOSED],
            [r for r in rows if r[ClosedColumn.ENDED] != CLOSED],
        )
        if column < 0:
            return [*groups[0], *groups[1]]
        return [
            row
            for group in groups
            for row in sorted(
                group, key=lambda r: (value_key(r[column]), r[ClosedColumn.TICKET]), reverse=self._descending
            )
        ]

    async def _value(self, symbol: str) -> float | None:
        if self._symbol_value is None:
            return None
        if symbol not in self._values:
            try:
                self._values[symbol] = await self._symbol_value(symbol)
            except Exception as error:  # no terminal now: R from prices
                logger.debug("value of %s: %s", symbol, error)
                return None
        return self._values[symbol]

    async def close_tasks(self) -> None:
        """Cancel additions still loading (shutdown)."""
        await self._tasks.cancel_all(timeout=1.0)

    def _on_cycle(self, _payload: object) -> None:
        """A desk left running past the terminal's midnight starts the new day's table (and total) empty; a table
        loaded before the terminal's time was known (the wall clock's day) is loaded again on its day."""
        now = self._engine.clock.now()
        if self._day is not None and now - now % DAY_S != self._day:
            self._day = None  # one reload however many cycles pass before it ends
            self._tasks.spawn(self.load(), "new-day")

    def _on_ended(self, payload: dict[str, Any]) -> None:
        self._tasks.spawn(self.add(int(payload["ticket"])), f"add-{payload['ticket']}")
