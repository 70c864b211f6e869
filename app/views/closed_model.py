"""Trades whose management ended today (terminal day): closed in MT5 or no longer managed."""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.engine.model import DefensiveState, Trade
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import state_colour
from app.views.table_order import SEARCH_ROLE, reorder, value_key
from app.views.trades_model import terminal_time_text

logger = logging.getLogger(__name__)

DAY_S = 86_400
Index = QModelIndex | QPersistentModelIndex


class ClosedColumn(IntEnum):
    TICKET = 0
    SYMBOL = 1
    DIRECTION = 2
    VOLUME = 3
    ENTRY = 4
    CLOSE_PRICE = 5
    PROFIT = 6
    REASON = 7
    CLOSED_AT = 8


_SEARCHED = (ClosedColumn.TICKET, ClosedColumn.SYMBOL, ClosedColumn.DIRECTION, ClosedColumn.REASON)
#: the widest text each column must show uncut
CLOSED_WIDEST = {0: "9999999999", 1: "EURUSD.m", 2: "SELL", 3: "99.99", 6: "-99,999.99", 8: "00:00:00"}
CLOSED_HEADERS = ("Ticket", "Symbol", "Side", "Volume", "Entry", "Close", "Profit", "Reason", "Closed at")


def _values(trade: Trade) -> tuple[Any, ...]:
    return (trade.ticket, trade.symbol, trade.direction.value, trade.initial_volume or trade.volume, trade.entry,
            trade.close_price, trade.close_profit, trade.close_reason or "", trade.closed_at)


class ClosedTradesModel(QAbstractTableModel):
    """Loaded with ``await load()``; each ``trade_closed``/``trade_unregistered`` adds the stored record."""

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._rows: list[tuple[Any, ...]] = []
        self._sort_column = -1
        self._descending = False
        self._tasks = TaskKeeper("closed-trades")
        bridge.trade_closed.connect(self._on_ended)
        bridge.trade_unregistered.connect(self._on_ended)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ClosedColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return CLOSED_HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = ClosedColumn(index.column())
        value = self._rows[index.row()][column]
        if role == SEARCH_ROLE:
            return " ".join(str(self._rows[index.row()][c]) for c in _SEARCHED)
        if role == Qt.ItemDataRole.ForegroundRole and column is ClosedColumn.PROFIT and value:
            return state_colour(DefensiveState.HEALTHY if value > 0 else DefensiveState.HEDGED)
        if role != Qt.ItemDataRole.DisplayRole or value is None:
            return None
        if column is ClosedColumn.CLOSED_AT:
            return terminal_time_text(value)
        if column is ClosedColumn.PROFIT:
            return f"{value:,.2f}"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def tickets(self) -> list[int]:
        return [row[ClosedColumn.TICKET] for row in self._rows]

    async def load(self) -> None:
        """Every trade whose management ended since the start of the terminal's current day."""
        now = self._engine.clock.now()
        trades = await self._engine.repository.load_closed_since(now - now % DAY_S)
        self.beginResetModel()
        self._rows = self._ordered([_values(t) for t in trades])
        self.endResetModel()

    async def add(self, ticket: int) -> None:
        trade = await self._engine.find_trade(ticket)
        if trade is None or trade.active or ticket in self.tickets():
            return
        values = _values(trade)
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
        """``rows`` in the table's sort order (closing order while no column is chosen)."""
        column = self._sort_column
        if column < 0:
            return rows
        return sorted(rows, key=lambda r: (value_key(r[column]), r[ClosedColumn.TICKET]), reverse=self._descending)

    async def close_tasks(self) -> None:
        """Cancel additions still loading (shutdown)."""
        await self._tasks.cancel_all(timeout=1.0)

    def _on_ended(self, payload: dict[str, Any]) -> None:
        self._tasks.spawn(self.add(int(payload["ticket"])), f"add-{payload['ticket']}")
