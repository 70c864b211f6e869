"""The table of managed trades: one row per active trade shown by the filter, kept current from the bridge
at a cost that follows what changed and what is on screen.

Rows come from ``engine.trades()``. Each fast cycle's ``trade_updated`` carries the price, profit and R of
the trades whose values changed (a ticket absent from it did not change): they are stored as they come, a
dictionary update done in C, with no signal per row, so 10,000 moving trades cost about a millisecond.
``dataChanged`` is then signalled only for the changed rows in view (``rows_in_view``, given by the table;
every row when no table is attached), in rectangles Qt repaints cell by cell, so a cycle repaints the two
or three live columns of the visible rows instead of the whole table. A row scrolled into view is right,
because every value is stored as it arrives and painted from the store.

The other columns change with the trade's own events (registered, action, state changed, changed outside
DTMS) and are recomputed for that trade only. The score changes at deep checks without an event: it is
read from the engine when painted, and compared at each cycle for the rows in view (for all rows only while
the table is sorted by it).

Order and filter are the model's own (``table_order``). The rows, each trade's row and, sorted by a live
column or the score, each trade's key are kept in arrays (``row_index``): a trade's row is found without a
scan, and the table sorted by profit is sorted again at each cycle, as a trader sorting by profit expects, by
one stable argsort over the float keys (about a millisecond at 10,000 trades), nothing done when they are in
order. Other columns keep one Python sort key per trade. When the rows on screen keep their places, as they mostly
do, a new order is taken without a relayout and repaint of the whole table. A new trade goes in by binary
search. The filter (``TradeFilter``: text, states,
symbols) is matched against a lower-cased text cached per trade (made when a filter first needs it, again only
when the trade changes).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.engine.model import DefensiveState
from app.engine.prices import price_text
from app.views.bridge import EngineBridge
from app.views.palette import money_colour, state_colour
from app.views.row_index import NO_KEY, RowIndex, TicketKeys, field_keys
from app.views.table_order import SEARCH_ROLE, TradeFilter, insert_position, reorder, value_key
from app.views.trade_columns import (
    ALIGNMENT,
    COLOURED,
    COLUMN_COUNT,
    DEFAULT_HIDDEN,
    HEADER_TIPS,
    HEADERS,
    LIVE_COLUMNS,
    LIVE_FIELDS,
    PRICE_COLUMNS,
    WIDEST,
    Column,
    action_words,
    changed_blocks,
    changed_ranges,
    row_values,
    search_text,
    terminal_time_text,
)

logger = logging.getLogger(__name__)

__all__ = [
    "COLOURED",
    "DEFAULT_HIDDEN",
    "HEADERS",
    "WIDEST",
    "Column",
    "TradesModel",
    "action_words",
    "changed_blocks",
    "changed_ranges",
    "terminal_time_text",
]

Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _ALIGN, int(SEARCH_ROLE)})
_LIVE_FIELD = {int(column): field for column, field in zip(LIVE_COLUMNS, LIVE_FIELDS, strict=True)}
#: columns sorted by the row index's float keys: the live ones and the score, which all move without an event
_FLOAT_SORTED = frozenset({*_LIVE_FIELD, int(Column.SCORE)})
_TICKET_OF = attrgetter("ticket")
_SCORE_OF = attrgetter("score")
_FIRST_LIVE, _LAST_LIVE = LIVE_COLUMNS[0], LIVE_COLUMNS[-1]
_TICKET = itemgetter("ticket")
_NO_LIVE: dict[str, Any] = {}
#: a row with fewer keys than the ticket and every live field carries only some fields: it is merged
_FULL_ROW = len(LIVE_FIELDS) + 1
#: Qt repaints only the cells of a ``dataChanged`` rectangle of at most this many cells (the whole viewport
#: for a larger one), so the rows in view are signalled in rectangles no larger
QT_CLIPPED_CELLS = 200


def clipped_blocks(top: int, bottom: int, first: int, last: int) -> list[tuple[int, int, int, int]]:
    """Rows ``top..bottom`` of columns ``first..last`` as (top, bottom, first, last) rectangles of at most
    ``QT_CLIPPED_CELLS`` cells each."""
    step = max(1, QT_CLIPPED_CELLS // (last - first + 1))
    return [(start, min(bottom, start + step - 1), first, last) for start in range(top, bottom + 1, step)]


class TradesModel(QAbstractTableModel):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._index = RowIndex()  # the rows shown in order, each trade's row, and its float sort key
        self._values: dict[int, tuple[Any, ...]] = {}  # every trade's column values, live columns None
        self._search: dict[int, str] = {}  # made when a filter first needs it, dropped when the trade changes
        self._live: dict[int, dict[str, Any]] = {}  # each trade's last trade_updated row, as it came
        self._seen: dict[int, tuple[Any, ...]] = {}  # the live values of the rows in view at the last update
        self._keys: dict[int, Any] = {}  # every trade's sort key for a column not sorted by float keys
        self._filter = TradeFilter()
        self._sort_column = -1
        self._descending = False
        #: first and last row on screen (set by the table showing the model); None: every row
        self.rows_in_view: Callable[[], tuple[int, int]] | None = None
        bridge.lifecycle.connect(self._on_lifecycle)
        bridge.trade_registered.connect(lambda p: self._upsert(int(p["ticket"])))
        bridge.trade_updated.connect(self._on_prices)
        bridge.cycle.connect(self._on_cycle)
        for signal in (bridge.trade_changed, bridge.action, bridge.state_changed):
            signal.connect(lambda p: self.refresh({int(p["ticket"])}) if p.get("ticket") is not None else None)
        bridge.trade_closed.connect(lambda p: self._remove(int(p["ticket"])))
        bridge.trade_unregistered.connect(lambda p: self._remove(int(p["ticket"])))
        self.reload()

    # --- reading ---------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._index.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # asked for about ten roles of every painted cell: the roles not answered return before any work
        if role not in _ROLES or not index.isValid():
            return None
        column = index.column()
        if role == _ALIGN:
            return ALIGNMENT[column]
        if role == _FOREGROUND and column not in COLOURED:
            return None
        ticket = self._index.rows[index.row()]
        if role == SEARCH_ROLE:
            return self._search_text(ticket)
        value = self._value(ticket, column)
        if role == _DISPLAY:
            return self._text(ticket, column, value)
        if column == Column.STATE:
            return state_colour(DefensiveState(value))
        return money_colour(value) if value else None

    def ticket_at(self, row: int) -> int:
        return self._index.rows[row]

    def row_of(self, ticket: int) -> int | None:
        return self._index.row_of(ticket)

    def live(self, ticket: int) -> dict[str, float | None] | None:
        row = self._live.get(ticket)
        return None if row is None else {field: row.get(field) for field in LIVE_FIELDS}

    @property
    def trade_filter(self) -> TradeFilter:
        return self._filter

    # --- changing --------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild every row from the engine (start, and each time it becomes READY)."""
        self.beginResetModel()
        trades = self._engine.trades()
        self._values = {t.ticket: row_values(t) for t in trades}
        self._search = {}
        self._live = {t: v for t, v in self._live.items() if t in self._values}
        self._index.reset(self._values)
        self._set_keys()
        self._index.set_rows(self._ordered([t for t in sorted(self._values) if self._shown(t)]))
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows ordered by ``column`` (again after every change of it); -1 is ticket order."""
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._set_keys()
        rows = self._index.rows
        ordered = self._ordered(sorted(rows))  # equal keys: by ticket
        reorder(self, rows, ordered, lambda: self._index.set_rows(ordered))

    def set_filter(self, trade_filter: TradeFilter) -> None:
        """Show only the trades ``trade_filter`` accepts; the selection stays on its trade if it is still shown."""
        self._filter = trade_filter
        rows = self._ordered([t for t in sorted(self._values) if self._shown(t)])
        reorder(self, self._index.rows, rows, lambda: self._index.set_rows(rows))

    def set_filter_text(self, text: str) -> None:
        """The window's filter field: the text, states and symbols kept."""
        current = self._filter
        self.set_filter(TradeFilter(text=text, states=current.states, symbols=current.symbols))

    def refresh(self, tickets: Iterable[int] | None = None) -> None:
        """Recompute trades (all, or the given tickets) from the engine: signal their changed cells in a few
        rectangles, show or hide them as the filter now judges them, and sort again when the sort column
        changed."""
        wanted = list(self._values) if tickets is None else [t for t in tickets if t in self._values]
        changes: list[tuple[int, list[tuple[int, int]]]] = []
        row_of = self._index.row_of
        arriving: list[int] = []
        leaving: list[int] = []
        resort = False
        for ticket in wanted:
            trade = self._engine.trade(ticket)
            if trade is None:
                continue
            new = row_values(trade)
            old = self._values[ticket]
            if new == old:
                continue
            self._values[ticket] = new
            self._search.pop(ticket, None)
            ranges = changed_ranges(old, new)
            if any(first <= self._sort_column <= last for first, last in ranges):
                self._set_key(ticket)
                resort = True
            row = row_of(ticket)
            shown = self._shown(ticket)
            if row is not None and shown:
                changes.append((row, ranges))
            elif row is not None:
                leaving.append(ticket)
            elif shown:
                arriving.append(ticket)
        for top, bottom, first, last in changed_blocks(changes):
            self.dataChanged.emit(self.index(top, first), self.index(bottom, last))
        for ticket in leaving:
            self._remove_row(ticket)
        for ticket in arriving:
            self._insert_row(ticket)
        if resort:
            self._resort()

    # --- internals -------------------------------------------------------------------------------------

    def _shown(self, ticket: int) -> bool:
        if self._filter.everything:
            return True
        values = self._values[ticket]
        return self._filter.accepts(self._search_text(ticket), values[Column.SYMBOL], values[Column.STATE])

    def _search_text(self, ticket: int) -> str:
        text = self._search.get(ticket)
        if text is None:
            text = self._search[ticket] = search_text(self._values[ticket])
        return text

    def _key(self, ticket: int) -> Any:
        """The sort key of a column not sorted by float keys."""
        column = self._sort_column
        if column < 0:
            return ticket
        return (value_key(self._value(ticket, column)), ticket)

    def _float_key(self, ticket: int) -> float:
        """The sort key of a column sorted by float keys (``NO_KEY`` for no value)."""
        value = self._value(ticket, self._sort_column)
        return NO_KEY if value is None or math.isnan(value) else float(value)

    def _set_keys(self) -> None:
        """Every trade's sort key for the sort column: a live column's and the score in the row index."""
        if self._sort_column not in _FLOAT_SORTED:
            self._keys = {t: self._key(t) for t in self._values}
            return
        self._keys = {}
        tickets = list(self._values)
        slots, _known = self._index.slots(tickets)
        self._index.set_keys(slots, np.array([self._float_key(t) for t in tickets], dtype=np.float64))

    def _set_key(self, ticket: int) -> None:
        if self._sort_column in _FLOAT_SORTED:
            self._index.set_key(ticket, self._float_key(ticket))
        else:
            self._keys[ticket] = self._key(ticket)

    def _value(self, ticket: int, column: int) -> Any:
        field = _LIVE_FIELD.get(column)
        if field is not None:
            return self._live.get(ticket, _NO_LIVE).get(field)
        if column == Column.SCORE:  # moves at deep checks without an event: always the engine's
            trade = self._engine.trade(ticket)
            if trade is not None:
                return trade.score
        return self._values[ticket][column]

    def _ordered(self, tickets: list[int]) -> list[int]:
        if self._sort_column in _FLOAT_SORTED:
            return self._index.ordered_by_key(tickets, self._descending)
        try:
            return sorted(tickets, key=self._keys.__getitem__, reverse=self._descending)
        except (KeyError, TypeError):  # a key missing
            self._keys = {t: self._key(t) for t in self._values}
            return sorted(tickets, key=self._keys.__getitem__, reverse=self._descending)

    def _resort(self) -> None:
        """Order the rows by the sort keys. When the rows on screen stay as they are (the usual case for a
        table sorted by profit: the rows that move are further down) the new order is installed without a
        layout change, which would repaint the whole table: only the indexes held on moved rows (the
        selection) are moved with their trades, and nothing on screen changes.

        Sorted by a live column or the score, the keys are a float column sorted by a stable argsort, and
        nothing is done when they are in order already; equal keys keep their order."""
        shown = self._index
        rows = shown.rows
        if self._sort_column in _FLOAT_SORTED:
            resorted = shown.resorted(self._descending)
            if resorted is None:
                return
            order, slots = resorted
            install = lambda: shown.set_order(order, slots)  # noqa: E731
        else:
            order = self._ordered(rows)
            if order == rows:
                return
            install = lambda: shown.set_rows(order)  # noqa: E731
        first, last = self._view_range()
        if self.rows_in_view is None or order[first : last + 1] != rows[first : last + 1]:
            reorder(self, rows, order, install)
            return
        held = self.persistentIndexList()
        tickets = [rows[index.row()] for index in held]
        install()
        if held:
            moved = [self.index(shown.shown_row(t), index.column()) for t, index in zip(tickets, held, strict=True)]
            self.changePersistentIndexList(held, moved)

    def _view_range(self) -> tuple[int, int]:
        last_row = len(self._index.rows) - 1
        if self.rows_in_view is None:
            return 0, last_row
        first, last = self.rows_in_view()
        return max(first, 0), min(last, last_row)

    def _signal_rows(self, top: int, bottom: int, first: int, last: int) -> None:
        """``dataChanged`` for rows ``top..bottom`` of columns ``first..last``, in rectangles Qt clips."""
        for block_top, block_bottom, _first, _last in clipped_blocks(top, bottom, first, last):
            self.dataChanged.emit(self.index(block_top, first), self.index(block_bottom, last))

    def _on_prices(self, rows: list[dict[str, Any]]) -> None:
        """Store the changed trades' rows as they came (no copy, nothing allocated per row); signal the rows in
        view whose values differ from those last seen there; sort again if sorted by a live column."""
        if not rows:
            return
        live = self._live
        first, last = self._view_range()
        tickets = list(map(_TICKET, rows))
        full = min(map(len, rows)) >= _FULL_ROW
        if full:
            live.update(zip(tickets, rows, strict=True))
        else:  # rows that carry only some of the fields: merged one by one
            for ticket, row in zip(tickets, rows, strict=True):
                live[ticket] = {**live.get(ticket, _NO_LIVE), **row}
        seen = self._seen
        self._seen = now = {t: self._live_values(t) for t in self._index.rows[first : last + 1]}
        changed = [first + i for i, (t, values) in enumerate(now.items()) if seen.get(t) != values]
        if changed:
            self._signal_rows(changed[0], changed[-1], _FIRST_LIVE, _LAST_LIVE)
        field = _LIVE_FIELD.get(self._sort_column)
        if field is not None:
            slots, known = self._index.slots(tickets)
            keys = field_keys(rows if full else list(map(live.__getitem__, tickets)), field)
            if known.all():
                self._index.set_keys(slots, keys)
            else:  # prices of trades the table does not have (yet)
                self._index.set_keys(slots[known], keys[known])
            self._resort()

    def _live_values(self, ticket: int) -> tuple[Any, ...]:
        row = self._live.get(ticket, _NO_LIVE)
        return tuple(map(row.get, LIVE_FIELDS))

    def _on_cycle(self, payload: dict[str, Any]) -> None:
        """Scores change at deep checks without an event: the cycle names the trades it scored, and only those
        are compared (all of them, read in C as one array, when a cycle does not say)."""
        by_score = self._sort_column == Column.SCORE
        first, last = self._view_range()
        scored = payload.get("scored") if isinstance(payload, dict) else None
        if by_score:
            trades = self._scores_moved(scored)
        else:
            tickets = self._index.rows[first : last + 1]
            if scored is not None:
                in_view = set(tickets)
                tickets = [t for t in scored if t in in_view]
            trades = [self._engine.trade(t) for t in tickets]
        changed: list[int] = []
        for trade in trades:
            values = None if trade is None else self._values.get(trade.ticket)
            if values is not None and trade.score != values[Column.SCORE]:
                self._values[trade.ticket] = (*values[: Column.SCORE], trade.score, *values[Column.SCORE + 1 :])
                changed.append(trade.ticket)
        rows = sorted(r for r in map(self.row_of, changed) if r is not None and first <= r <= last)
        if rows:
            self._signal_rows(rows[0], rows[-1], Column.SCORE, Column.SCORE)
        if by_score and trades:
            self._resort()

    def _scores_moved(self, scored: Sequence[int] | None) -> list[Any]:
        """The trades (of ``scored``, or all) whose score differs from their sort key, their keys set to it."""
        if scored is None:
            trades = self._engine.trades()
        else:
            trades = [t for t in map(self._engine.trade, scored) if t is not None]
        scores = np.fromiter(map(_SCORE_OF, trades), dtype=np.float64, count=len(trades))
        return [trades[i] for i in self._index.update_keys(list(map(_TICKET_OF, trades)), scores)]

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
        self._values[ticket] = row_values(trade)
        self._search.pop(ticket, None)
        self._index.add(ticket)
        self._set_key(ticket)  # sorted by a live column, from the prices that may have come before it
        if self._shown(ticket):
            self._insert_row(ticket)

    def _insert_row(self, ticket: int) -> None:
        if self._sort_column in _FLOAT_SORTED:
            row = insert_position(
                self._index.rows, self._index.key_of(ticket), TicketKeys(self._index), self._descending
            )
        else:
            row = insert_position(self._index.rows, self._keys[ticket], self._keys, self._descending)
        self.beginInsertRows(QModelIndex(), row, row)
        self._index.insert(row, ticket)
        self.endInsertRows()

    def _remove_row(self, ticket: int) -> None:
        row = self._index.row_of(ticket)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        self._index.remove(row)
        self.endRemoveRows()

    def _remove(self, ticket: int) -> None:
        if ticket not in self._values:
            return
        self._remove_row(ticket)
        self._index.drop(ticket)
        del self._values[ticket]
        self._search.pop(ticket, None)
        self._keys.pop(ticket, None)
        self._live.pop(ticket, None)

    def _text(self, ticket: int, column: int, value: Any) -> str:
        if value is None:
            return ""
        if column in PRICE_COLUMNS:
            return "" if value == 0 else price_text(value, self._digits(ticket))
        if column == Column.VOLUME:
            return f"{value:g}"
        if column == Column.PROFIT:
            return f"{value:z,.2f}"
        if column == Column.PROFIT_R or column == Column.SCORE:
            return f"{value:+z.2f}"
        if column == Column.BREAKEVEN or column == Column.PARTIAL:
            return "yes" if value else ""
        if column == Column.LAST_ACTION_AT:
            return terminal_time_text(value)
        if column == Column.LAST_ACTION:
            return action_words(value)
        return str(value)

    def _digits(self, ticket: int) -> int:
        digits = self._engine.market.digits(self._values[ticket][Column.SYMBOL])
        return 5 if digits is None else digits
