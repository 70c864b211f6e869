"""The window's trade tables: sortable, one selected row, columns the trader chooses from the header's menu,
and widths that never cut a value once fitted.

Qt's automatic fitting (``ResizeToContents``) measures the column's cells again at every ``dataChanged``;
with a thousand trades whose prices change every second that alone took most of a second per update. And a
fit that measures every row asks the model for eight roles of each of 17,000 cells (about a second). So the
columns are interactive (the trader can widen them) and fitted to the rows in view only: when the table is
shown, and at most every ``FIT_DELAY_MS`` after rows were loaded or added. A fit never makes a column
narrower than the widest value it can hold (``ColumnSpec.widest``: "WARNING_L2", "-99,999.99"), and after
the first fit it only widens, so a value that grows later ("HEALTHY" -> "WARNING_L2") is never elided.

The columns shown, their order, widths and the sort are saved with ``save_layout`` into a ``QSettings``
(the window's file in the data directory) and restored at construction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

logger = logging.getLogger(__name__)

FIT_DELAY_MS = 250
#: room for a cell's margins beyond its text
CELL_PADDING = 12
#: room for a header section's margins and sort arrow beyond its title
HEADER_PADDING = 22


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnSpec:
    """``hidden``: columns hidden until the trader shows them; ``widest``: per column, the widest text it must
    hold without cutting; ``coloured``: columns whose text colour (a state, a loss) stays on a selected row
    (a delegate written in Python costs a call per painted cell, so only where it matters)."""

    hidden: frozenset[int] = frozenset()
    widest: Mapping[int, str] = field(default_factory=dict)
    coloured: frozenset[int] = frozenset()


class KeepColoursDelegate(QStyledItemDelegate):
    """A selected cell keeps its own text colour (a state, a loss) instead of the palette's highlighted text;
    the themes' selection colours are pale (light) or deep (dark) enough for those colours to stay readable."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if option.state & QStyle.StateFlag.State_Selected:
            foreground = index.data(Qt.ItemDataRole.ForegroundRole)
            if foreground is not None:
                option.palette.setColor(QPalette.ColorRole.HighlightedText, foreground)


class TradeTable(QTableView):
    """``settings`` and ``key`` name where the layout is saved (None: not saved)."""

    def __init__(
        self,
        model: QAbstractItemModel,
        parent: QWidget | None = None,
        *,
        columns: ColumnSpec | None = None,
        settings: QSettings | None = None,
        key: str = "",
    ) -> None:
        super().__init__(parent)
        self._spec = columns or ColumnSpec()
        self._settings = settings
        self._key = key
        self._fitted = False
        self.setModel(model)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.verticalHeader().setVisible(False)
        self._keep_colours = KeepColoursDelegate(self)
        for column in self._spec.coloured:
            self.setItemDelegateForColumn(column, self._keep_colours)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(0)  # measure the rows in view (in a hidden table Qt would take all)
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.column_menu: QMenu | None = None
        for column in self._spec.hidden:
            header.setSectionHidden(column, True)
        self._restored = self.restore_layout()
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(FIT_DELAY_MS)
        self._fit.timeout.connect(self.fit_columns)
        model.modelReset.connect(self._fit.start)
        model.rowsInserted.connect(self._fit.start)

    def rows_in_view(self) -> tuple[int, int]:
        """The first and last model row on screen; (0, -1) when none is (the table hidden, in another tab or
        in the tray): a model then has no cell to signal."""
        if not self.isVisible():
            return 0, -1
        first = self.rowAt(0)
        if first < 0:
            return 0, -1
        last = self.rowAt(self.viewport().height() - 1)
        return first, (self.model().rowCount() - 1 if last < 0 else last)

    # --- widths ----------------------------------------------------------------------------------------

    def least_width(self, column: int) -> int:
        """The width the column's header and its widest expected value need."""
        header = self.horizontalHeader()
        title = str(self.model().headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
        text = self._spec.widest.get(column, "")
        return max(
            header.fontMetrics().horizontalAdvance(title) + HEADER_PADDING,
            self.fontMetrics().horizontalAdvance(text) + CELL_PADDING if text else 0,
        )

    def fit_columns(self) -> None:
        """Fit the columns to the rows in view (a hidden table is fitted when it is shown): the first time to
        their contents, afterwards only wider; never narrower than ``least_width``. A restored layout keeps
        the trader's widths, widened only where a value would be cut."""
        if not self.isVisible():
            return
        header = self.horizontalHeader()
        for column in range(header.count()):
            if header.isSectionHidden(column):
                continue
            needed = max(self.sizeHintForColumn(column), self.least_width(column))
            first_fit = not self._fitted and not self._restored
            if first_fit or needed > self.columnWidth(column):
                self.setColumnWidth(column, needed)
        self._fitted = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()

    # --- columns the trader chooses ----------------------------------------------------------------------

    def set_column_shown(self, column: int, shown: bool) -> None:
        header = self.horizontalHeader()
        if not shown and header.count() - header.hiddenSectionCount() <= 1:
            return  # the last visible column stays
        header.setSectionHidden(column, not shown)
        if shown:
            self.setColumnWidth(
                column,
                max(
                    self.columnWidth(column),
                    self.least_width(column),
                    self.sizeHintForColumn(column) if self.isVisible() else 0,
                ),
            )
        self.save_layout()

    def build_column_menu(self) -> QMenu:
        """A checkable entry per column (the header's context menu)."""
        model = self.model()
        header = self.horizontalHeader()
        if self.column_menu is not None:
            self.column_menu.deleteLater()  # one menu at a time, not one more per right-click
        menu = QMenu(self)
        for column in range(header.count()):
            name = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
            action = QAction(str(name), menu)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setData(column)
            action.toggled.connect(lambda shown, c=column: self.set_column_shown(c, shown))
            menu.addAction(action)
        self.column_menu = menu
        return menu

    def _header_menu(self, position: QPoint) -> None:
        self.build_column_menu().popup(self.horizontalHeader().mapToGlobal(position))

    # --- persistence ---------------------------------------------------------------------------------------

    def save_layout(self) -> None:
        if self._settings is None or not self._key:
            return
        self._settings.setValue(f"{self._key}/header", self.horizontalHeader().saveState())
        self._settings.sync()

    def restore_layout(self) -> bool:
        """Columns shown, order, widths and sort from the saved layout; False when there is none."""
        if self._settings is None or not self._key:
            return False
        state = self._settings.value(f"{self._key}/header")
        header = self.horizontalHeader()
        if state is None or not header.restoreState(state):
            return False
        if header.count() - header.hiddenSectionCount() == 0:
            for column in range(header.count()):
                header.setSectionHidden(column, column in self._spec.hidden)
        if header.isSortIndicatorShown() and 0 <= header.sortIndicatorSection() < header.count():
            self.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        return True
