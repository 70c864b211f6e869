"""The window's trade tables: sortable, one selected row, and columns fitted to their contents when rows
arrive rather than on every change.

Qt's automatic fitting (``ResizeToContents``) measures the column's cells again at every ``dataChanged``;
with a thousand trades whose prices change every second that alone took most of a second per update. So the
columns are interactive (the trader can widen them), fitted once rows are loaded or added, at most every
``FIT_DELAY_MS``, measuring at most ``FIT_ROWS`` rows.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QAbstractItemModel, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

logger = logging.getLogger(__name__)

FIT_DELAY_MS = 250
FIT_ROWS = 200


class TradeTable(QTableView):
    def __init__(self, model: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(FIT_ROWS)
        header.setStretchLastSection(True)
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(FIT_DELAY_MS)
        self._fit.timeout.connect(self.resizeColumnsToContents)
        model.modelReset.connect(self._fit.start)
        model.rowsInserted.connect(self._fit.start)
        self.resizeColumnsToContents()
