"""Order and filter of the trade tables.

The models sort themselves: a table of a thousand live trades sorted by profit is re-sorted each second,
and one Python ``sorted`` over the rows' raw values costs a fraction of a millisecond, where a sorting proxy
asks the model for a value through Qt at each of some ten thousand comparisons (about 40 ms per update,
measured by bench/bench_views.py). The proxy in front of them only filters, on one text per row
(``SEARCH_ROLE``: ticket, symbol, side, state, owner...), so a filter costs one call per row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QObject, QSortFilterProxyModel, Qt

logger = logging.getLogger(__name__)

#: The text a row is found by when filtering (asked of column 0)
SEARCH_ROLE = Qt.ItemDataRole.UserRole


def value_key(value: Any) -> tuple[bool, Any]:
    """Sort key of a raw cell value: no value sorts before any value."""
    return (value is not None, 0 if value is None else value)


def reorder(
    model: QAbstractItemModel, before: Sequence[Hashable], after: Sequence[Hashable], commit: Callable[[], None]
) -> bool:
    """Move rows from the order ``before`` to ``after`` (the same row keys), keeping persistent indexes (the
    selection, the proxy's mapping) on their rows. ``commit`` installs the new order. False if unchanged."""
    if list(before) == list(after):
        return False
    model.layoutAboutToBeChanged.emit()
    position = {key: row for row, key in enumerate(after)}
    old = model.persistentIndexList()
    new = [model.index(position[before[index.row()]], index.column()) for index in old]
    commit()
    model.changePersistentIndexList(old, new)
    model.layoutChanged.emit()
    return True


class TradesFilter(QSortFilterProxyModel):
    """Filters on the source's ``SEARCH_ROLE`` text (case-insensitive); sorting is passed on to the source."""

    def __init__(self, source: QAbstractItemModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterKeyColumn(0)
        self.setFilterRole(SEARCH_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)
