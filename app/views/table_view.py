"""The window's trade tables: sortable, one selected row, and columns fitted to the rows in view when the
table is shown and when rows arrive, rather than at every change.

Qt's automatic fitting (``ResizeToContents``) measures the column's cells again at every ``dataChanged``;
with a thousand trades whose prices change every second that alone took most of a second per update. And a
fit that measures every row asks the model for eight roles of each of 17,000 cells (about a second). So the
columns are interactive (the trader can widen them) and fitted to the rows in view only: when the table is
shown, and at most every ``FIT_DELAY_MS`` after rows were loaded or added.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTableView, QWidget)

logger = logging.getLogger(__name__)

FIT_DELAY_MS = 250


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
    def __init__(self, model: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.setItemDelegate(KeepColoursDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(0)  # measure the rows in view (in a hidden table Qt would take all)
        header.setStretchLastSection(True)
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(FIT_DELAY_MS)
        self._fit.timeout.connect(self.fit_columns)
        model.modelReset.connect(self._fit.start)
        model.rowsInserted.connect(self._fit.start)

    def fit_columns(self) -> None:
        """Fit the columns to the rows in view; a hidden table is fitted when it is shown."""
        if self.isVisible():
            self.resizeColumnsToContents()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()
