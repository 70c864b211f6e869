"""The table of managed trades: one row per active trade, refreshed cell by cell from the bridge.

Rows come from ``engine.trades()``; prices, profit and R come from the ``trade_updated`` rows of each fast
cycle. After every event the model recomputes the affected rows and signals ``dataChanged`` for the columns
whose values changed (one rectangle per set of columns, not one signal per row), so a quiet market repaints
nothing and a thousand moving prices cost one or two signals. The model keeps its own sort order
(``table_order``), sorting again when a change touches the sort column.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.engine.model import DefensiveState, Trade
from app.engine.registry import owner_name
from app.views.bridge import EngineBridge
from app.views.palette import money_colour, state_colour
from app.views.table_order import SEARCH_ROLE, reorder, value_key

logger = logging.getLogger(__name__)

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


HEADERS = (
    "Ticket",
    "Symbol",
    "Side",
    "Volume",
    "Entry",
    "SL",
    "TP",
    "Price",
    "Profit",
    "R",
    "State",
    "Score",
    "Owner",
    "BE",
    "Partial",
    "Last action",
    "At",
)
_PRICE_COLUMNS = {Column.ENTRY, Column.SL, Column.TP, Column.PRICE}
_LEFT_COLUMNS = {Column.SYMBOL, Column.DIRECTION, Column.STATE, Column.OWNER, Column.LAST_ACTION}
#: what the filter finds a trade by
_SEARCHED = (Column.TICKET, Column.SYMBOL, Column.DIRECTION, Column.STATE, Column.OWNER, Column.LAST_ACTION)
COLUMN_COUNT = len(Column)
_HEADER_TIPS: dict[int, str] = {  # keyed by Column, read by section number
    Column.VOLUME: "Lots open now",
    Column.PROFIT: "Floating profit in account money (swap and commission included as MT5 reports them)",
    Column.PROFIT_R: "Profit in R: multiples of the trade's initial risk (entry to first SL)",
    Column.STATE: "DTMS's defensive state of the trade",
    Column.SCORE: "The deep check's weighted score (by default WARNING_L1 at -2, WARNING_L2 at -4, HEDGED at -6)",
    Column.OWNER: "Who registered the trade (a bot's strategy, or adopted)",
    Column.BREAKEVEN: "Breakeven taken",
    Column.PARTIAL: "Partial profit taken",
    Column.LAST_ACTION: "What DTMS last did to the trade and how MT5 answered",
    Column.LAST_ACTION_AT: "When, in terminal (server) time",
}
#: hidden until the trader shows them from the header's menu
DEFAULT_HIDDEN = frozenset(
    {
        Column.PRICE,
        Column.ENTRY,
        Column.SL,
        Column.TP,
        Column.OWNER,
        Column.BREAKEVEN,
        Column.PARTIAL,
        Column.LAST_ACTION_AT,
    }
)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _ALIGN, int(SEARCH_ROLE)})
#: columns drawn in a state's or a result's colour
COLOURED = frozenset({Column.STATE, Column.PROFIT, Column.PROFIT_R})
#: the widest text each column must show uncut
WIDEST: dict[int, str] = {
    Column.TICKET: "999999999",
    Column.SYMBOL: "EURUSD.m",
    Column.DIRECTION: "SELL",
    Column.VOLUME: "99.99",
    Column.PRICE: "99999.999",
    Column.PROFIT: "-99,999.99",
    Column.PROFIT_R: "-99.99",
    Column.STATE: "WARNING_L2",
    Column.SCORE: "-99.99",
    Column.LAST_ACTION: "Partial close failed",
    Column.LAST_ACTION_AT: "00:00:00",
}
_KIND_WORDS = {
    "BREAKEVEN": "Breakeven",
    "PARTIAL_TAKE": "Partial take",
    "TRAIL": "Trail",
    "TIGHTEN": "Tighten SL",
    "PARTIAL_CLOSE": "Partial close",
    "HEDGE": "Hedge",
    "CLOSE_HEDGE": "Close hedge",
    "CLOSE": "Close",
    "READD": "Re-add",
    "EXTERNAL_CHANGE": "Changed in MT5",
}
_OUTCOME_WORDS = {
    "SUCCESS": "done",
    "RETRYING": "retry",
    "FAILED": "failed",
    "UNKNOWN": "unsure",
    "NOT_SENT": "not sent",
}


def action_words(last_action: str) -> str:
    """``"PARTIAL_CLOSE SUCCESS"`` as a trader reads it: ``"Partial close done"``."""
    kind, _, outcome = last_action.partition(" ")
    if kind == "EXTERNAL_CHANGE":
        return _KIND_WORDS[kind]
    if kind == "BREAKEVEN" and outcome == "NOT_SENT":  # reached, the SL already past it: nothing to send
        return "Breakeven reached"
    words = _KIND_WORDS.get(kind, kind)
    return f"{words} {_OUTCOME_WORDS.get(outcome, outcome.lower())}".strip()


_ALIGNMENT = tuple(
    int(
        (Qt.AlignmentFlag.AlignLeft if c in _LEFT_COLUMNS else Qt.AlignmentFlag.AlignRight)
        | Qt.AlignmentFlag.AlignVCenter
    )
    for c in Column
)


def terminal_time_text(at: float | None) -> str:
    """Terminal (server) time as HH:MM:SS."""
    if not at:
        return ""
    return datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M:%S")


def row_values(trade: Trade, live: dict[str, float] | None) -> tuple[Any, ...]:
    """The raw value of every column for one trade, in Column order."""
    return (
        trade.ticket,
        trade.symbol,
        trade.direction.value,
        trade.volume,
        trade.entry,
        trade.sl,
        trade.tp,
        live.get("price") if live else None,
        live.get("profit") if live else None,
        live.get("profit_r") if live else None,
        trade.state.value,
        trade.score,
        owner_name(trade.managed_by),
        trade.breakeven_triggered,
        trade.partial_taken,
        trade.last_action or "",
        trade.last_action_at,
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


def changed_blocks(rows: list[tuple[int, list[tuple[int, int]]]]) -> list[tuple[int, int, int, int]]:
    """Rectangles (top, bottom, first column, last column) to signal for each changed row's column ranges:
    one per distinct column range, from the first to the last row where it changed. Rows between them that
    did not change are included (repainting a cell costs less than a signal: a price tick changes the same
    columns of most rows, which this makes one or two signals rather than hundreds)."""
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for row, ranges in rows:
        for columns in ranges:
            top, _bottom = spans.get(columns, (row, row))
            spans[columns] = (top, row)
    return [(top, bottom, *columns) for columns, (top, bottom) in spans.items()]


class TradesModel(QAbstractTableModel):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._tickets: list[int] = []
        self._values: dict[int, tuple[Any, ...]] = {}
        self._live: dict[int, dict[str, float]] = {}
        self._sort_column = -1
        self._descending = False
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
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # asked for about ten roles of every painted cell: the roles not answered return before any work
        if role not in _ROLES or not index.isValid():
            return None
        column = index.column()
        if role == _ALIGN:
            return _ALIGNMENT[column]
        if role == _FOREGROUND and column not in COLOURED:
            return None
        values = self._values[self._tickets[index.row()]]
        if role == SEARCH_ROLE:
            return " ".join(str(values[c]) for c in _SEARCHED)
        value = values[column]
        if role == _DISPLAY:
            return self._text(values[0], column, value)
        if column == Column.STATE:
            return state_colour(DefensiveState(value))
        return money_colour(value) if value else None

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
        trades = self._engine.trades()
        tickets = {t.ticket for t in trades}
        self._live = {t: v for t, v in self._live.items() if t in tickets}
        self._values = {t.ticket: row_values(t, self._live.get(t.ticket)) for t in trades}
        self._tickets = self._ordered(sorted(tickets))
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows ordered by ``column`` (again after every change of it); -1 is ticket order."""
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._resort()

    def refresh(self, tickets: set[int] | None = None) -> None:
        """Recompute rows (all, or the given tickets), signal the changed cells in a few rectangles, and sort
        again when the sort column changed."""
        changes: list[tuple[int, list[tuple[int, int]]]] = []
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
            changes.append((row, changed_ranges(old, new)))
        blocks = changed_blocks(changes)
        for top, bottom, first, last in blocks:
            self.dataChanged.emit(self.index(top, first), self.index(bottom, last))
        if any(first <= self._sort_column <= last for _top, _bottom, first, last in blocks):
            self._resort()

    def _ordered(self, tickets: list[int]) -> list[int]:
        column = self._sort_column
        if column < 0:
            return sorted(tickets)
        return sorted(tickets, key=lambda t: (value_key(self._values[t][column]), t), reverse=self._descending)

    def _resort(self) -> None:
        order = self._ordered(self._tickets)
        reorder(self, self._tickets, order, lambda: setattr(self, "_tickets", order))

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
        self._values[ticket] = row_values(trade, self._live.get(ticket))
        row = self._ordered([*self._tickets, ticket]).index(ticket)
        self.beginInsertRows(QModelIndex(), row, row)
        self._tickets.insert(row, ticket)
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

    def _text(self, ticket: int, column: int, value: Any) -> str:
        if value is None:
            return ""
        if column in _PRICE_COLUMNS:
            return "" if value == 0 else f"{value:.{self._digits(ticket)}f}"
        if column == Column.VOLUME:
            return f"{value:g}"
        if column == Column.PROFIT:
            return f"{value:,.2f}"
        if column == Column.PROFIT_R or column == Column.SCORE:
            return f"{value:+.2f}"
        if column == Column.BREAKEVEN or column == Column.PARTIAL:
            return "yes" if value else ""
        if column == Column.LAST_ACTION_AT:
            return terminal_time_text(value)
        if column == Column.LAST_ACTION:
            return action_words(value)
        return str(value)

    def _digits(self, ticket: int) -> int:
        data = self._engine.market.get(self._values[ticket][Column.SYMBOL])
        return int(data.rules.digits) if data is not None else 5
