"""The table of managed trades: one row per active trade, refreshed cell by cell from the bridge.

Rows come from ``engine.trades()``; prices, profit and R come from the ``trade_updated`` rows of each fast
cycle. After every event the model recomputes the affected rows and signals ``dataChanged`` only for the
ranges of cells whose value actually changed, so a quiet market repaints nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from app.engine.model import DefensiveState, Trade
from app.views.bridge import EngineBridge
from app.views.palette import state_colour

logger = logging.getLogger(__name__)

#: The raw (sortable) value of a cell; the display text is derived from it
SORT_ROLE = Qt.ItemDataRole.UserRole
Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TICKET = 0
    SYMBOL = 1
    DIRECTION = 2
    VOLUME = 3
    ENTRY = 4
    SL = 5
    TP = 6
    PRICE = 7
    PROFIT = 8
    PROFIT_R = 9
    STATE = 10
    SCORE = 11
    OWNER = 12
    BREAKEVEN = 13
    PARTIAL = 14
    LAST_ACTION = 15
    LAST_ACTION_AT = 16


HEADERS = ("Ticket", "Symbol", "Side", "Volume", "Entry", "SL", "TP", "Price", "Profit", "R", "State", "Score",
           "Owner", "BE", "Partial", "Last action", "At")
_PRICE_COLUMNS = {Column.ENTRY, Column.SL, Column.TP, Column.PRICE}
_LEFT_COLUMNS = {Column.SYMBOL, Column.DIRECTION, Column.STATE, Column.OWNER, Column.LAST_ACTION}


def terminal_time_text(at: float | None) -> str:
    """Terminal (server) time as HH:MM:SS."""
    if not at:
        return ""
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%H:%M:%S")


def row_values(trade: Trade, live: dict[str, float] | None) -> tuple[Any, ...]:
    """The raw value of every column for one trade, in Column order."""
    return (
        trade.ticket, trade.symbol, trade.direction.value, trade.volume, trade.entry, trade.sl, trade.tp,
        live.get("price") if live else None,
        live.get("profit") if live else None,
        live.get("profit_r") if live else None,
        trade.state.value, trade.score, trade.managed_by, trade.breakeven_triggered, trade.partial_taken,
        trade.last_action or "", trade.last_action_at,
    )


def changed_ranges(old: tuple[Any, ...], new: tuple[Any, ...]) -> list[tuple[int, int]]:
    """Contiguous (first, last) column ranges whose values differ."""
    ranges: list[tuple[int, int]] = []
    for column, (a, b) in enumerate(zip(old, new, strict=True)):
        if a == b:
            continue
        if ranges and ranges[-1][1] == column - 1:
            ranges[-1] = (ranges[-1][0], column)
        else:
            ranges.append((column, column))
    return ranges


class TradesModel(QAbstractTableModel):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._tickets: list[int] = []
        self._values: dict[int, tuple[Any, ...]] = {}
        self._live: dict[int, dict[str, float]] = {}
        bridge.lifecycle.connect(self._on_lifecycle)
        bridge.trade_registered.connect(lambda p: self._upsert(int(p["ticket"])))
        bridge.trade_updated.connect(self._on_prices)
        for signal in (bridge.trade_changed, bridge.action, bridge.state_changed):
            signal.connect(lambda p: self.refresh({int(p["ticket"])}) if p.get("ticket") is not None else None)
        bridge.trade_closed.connect(lambda p: self._remove(int(p["ticket"])))
        bridge.trade_unregistered.connect(lambda p: self._remove(int(p["ticket"])))
        self.reload()

    # --- reading ---------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._tickets)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ticket = self._tickets[index.row()]
        column = Column(index.column())
        value = self._values[ticket][column]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(ticket, column, value)
        if role == SORT_ROLE:
            return value if value is not None else float("-inf")
        if role == Qt.ItemDataRole.ForegroundRole:
            if column is Column.STATE:
                return state_colour(DefensiveState(value))
            if column in (Column.PROFIT, Column.PROFIT_R) and value:
                return state_colour(DefensiveState.HEALTHY if value > 0 else DefensiveState.HEDGED)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignLeft if column in _LEFT_COLUMNS else Qt.AlignmentFlag.AlignRight
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def ticket_at(self, row: int) -> int:
        return self._tickets[row]

    def row_of(self, ticket: int) -> int | None:
        try:
            return self._tickets.index(ticket)
        except ValueError:
            return None

    def live(self, ticket: int) -> dict[str, float] | None:
        return self._live.get(ticket)

    # --- changing --------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild every row from the engine (start, and each time it becomes READY)."""
        self.beginResetModel()
        trades = sorted(self._engine.trades(), key=lambda t: t.ticket)
        self._tickets = [t.ticket for t in trades]
        self._live = {t: v for t, v in self._live.items() if t in set(self._tickets)}
        self._values = {t.ticket: row_values(t, self._live.get(t.ticket)) for t in trades}
        self.endResetModel()

    def refresh(self, tickets: set[int] | None = None) -> None:
        """Recompute rows (all, or the given tickets) and signal the changed cells only."""
        for row, ticket in enumerate(self._tickets):
            if tickets is not None and ticket not in tickets:
                continue
            trade = self._engine.trade(ticket)
            if trade is None:
                continue
            new = row_values(trade, self._live.get(ticket))
            old = self._values[ticket]
            if new == old:
                continue
            self._values[ticket] = new
            for first, last in changed_ranges(old, new):
                self.dataChanged.emit(self.index(row, first), self.index(row, last))

    def _on_prices(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._live[int(row["ticket"])] = {k: row[k] for k in ("price", "profit", "profit_r") if k in row}
        self.refresh()

    def _on_lifecycle(self, payload: dict[str, Any]) -> None:
        if payload.get("state") == "READY":
            self.reload()

    def _upsert(self, ticket: int) -> None:
        if ticket in self._values:
            self.refresh({ticket})
            return
        trade = self._engine.trade(ticket)
        if trade is None:
            return
        row = len(self._tickets)
        self.beginInsertRows(QModelIndex(), row, row)
        self._tickets.append(ticket)
        self._values[ticket] = row_values(trade, self._live.get(ticket))
        self.endInsertRows()

    def _remove(self, ticket: int) -> None:
        row = self.row_of(ticket)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._tickets[row]
        del self._values[ticket]
        self._live.pop(ticket, None)
        self.endRemoveRows()

    def _text(self, ticket: int, column: Column, value: Any) -> str:
        if value is None:
            return ""
        if column in _PRICE_COLUMNS:
            return "" if value == 0 else f"{value:.{self._digits(ticket)}f}"
        if column is Column.VOLUME:
            return f"{value:g}"
        if column is Column.PROFIT:
            return f"{value:,.2f}"
        if column in (Column.PROFIT_R, Column.SCORE):
            return f"{value:+.2f}"
        if column in (Column.BREAKEVEN, Column.PARTIAL):
            return "yes" if value else ""
        if column is Column.LAST_ACTION_AT:
            return terminal_time_text(value)
        return str(value)

    def _digits(self, ticket: int) -> int:
        data = self._engine.market.get(self._values[ticket][Column.SYMBOL])
        return int(data.rules.digits) if data is not None else 5


class TradesFilter(QSortFilterProxyModel):
    """Sorts on raw values and filters on any column's text (case-insensitive)."""

    def __init__(self, source: QAbstractTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
