"""Order and filter of the trade tables.

The models sort themselves: a table of a thousand live trades sorted by profit is re-sorted each second,
and one Python ``sorted`` over the rows' raw values costs a fraction of a millisecond, where a sorting proxy
asks the model for a value through Qt at each of some ten thousand comparisons (about 40 ms per update,
measured by bench/bench_views.py). The managed trades filter themselves too (``TradeFilter``, one cached
text per trade): a filtering proxy asks the model for that text again for every row of every change, which
at 10,000 trades cost more than the rest of the update. The small closed-today table keeps the light proxy
below, which only filters on ``SEARCH_ROLE`` (ticket, symbol, side, state, owner...).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QSortFilterProxyModel, Qt

logger = logging.getLogger(__name__)

_Key = TypeVar("_Key", bound=Hashable)
_Key_contra = TypeVar("_Key_contra", contravariant=True)


class SortKeys(Protocol[_Key_contra]):
    """Sort keys read by row key (a dictionary, or keys kept elsewhere)."""

    def __getitem__(self, row: _Key_contra, /) -> Any: ...


#: The text a row is found by when filtering (asked of column 0)
SEARCH_ROLE = Qt.ItemDataRole.UserRole


def value_key(value: Any) -> tuple[bool, Any]:
    """Sort key of a raw cell value: no value sorts before any value."""
    return (value is not None, 0 if value is None else value)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeFilter:
    """Which trades a table shows: ``text`` found (case-insensitive) in the trade's search text, and, when
    given, only these states and symbols. The default shows every trade."""

    text: str = ""
    states: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return not (self.text or self.states or self.symbols)

    def accepts(self, search: str, symbol: str, state: str) -> bool:
        """``search`` is the trade's lower-cased search text."""
        return (
            (not self.text or self.text.lower() in search)
            and (not self.states or state in self.states)
            and (not self.symbols or symbol in self.symbols)
        )


def reorder(
    model: QAbstractItemModel, before: Sequence[Hashable], after: Sequence[Hashable], commit: Callable[[], None]
) -> bool:
    """Move rows from the order ``before`` to ``after`` (the same row keys, or some of them: a row missing from
    ``after`` was filtered out), keeping persistent indexes (the selection, a proxy's mapping) on their rows;
    an index on a row filtered out becomes invalid. ``commit`` installs the new order. False if unchanged."""
    if len(before) == len(after) and list(before) == list(after):
        return False
    model.layoutAboutToBeChanged.emit()
    old = model.persistentIndexList()
    new: list[QModelIndex] = []
    if old:
        position = dict(zip(after, range(len(after)), strict=True))
        for index in old:
            row = position.get(before[index.row()])
            new.append(QModelIndex() if row is None else model.index(row, index.column()))
    commit()
    model.changePersistentIndexList(old, new)
    model.layoutChanged.emit()
    return True


class _Reversed(Sequence[Any]):
    def __init__(self, items: Sequence[Any]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, position: Any) -> Any:
        return self._items[len(self._items) - 1 - position]


def insert_position(rows: Sequence[_Key], key: Any, keys: SortKeys[_Key], descending: bool) -> int:
    """Where a row with sort key ``key`` goes in ``rows`` (ordered by ``keys``, descending or not): a binary
    search, so adding a trade to 10,000 costs some fourteen comparisons, not a sort."""
    if not descending:
        return bisect_left(rows, key, key=keys.__getitem__)
    return len(rows) - bisect_left(_Reversed(rows), key, key=keys.__getitem__)


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
