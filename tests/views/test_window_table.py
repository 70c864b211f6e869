"""The managed-trades table at a trader's screen sizes: the columns that matter are visible without scrolling,
values are never cut after the first fit, and the columns chosen, their widths and the sort persist."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QMenu

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from app.views.program import STYLE_SHEET
from app.views.table_view import TradeTable
from app.views.trades_model import Column

from .conftest import register_buy, until
from .test_main_window import window

MUST_SEE = (
    Column.TICKET,
    Column.SYMBOL,
    Column.DIRECTION,
    Column.VOLUME,
    Column.PROFIT,
    Column.PROFIT_R,
    Column.STATE,
    Column.SCORE,
    Column.LAST_ACTION,
)


@pytest.fixture(autouse=True)
def style_sheet(qapp):
    """The program's style sheet (its font size decides the widths)."""
    previous = qapp.styleSheet()
    qapp.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    yield
    qapp.setStyleSheet(previous)


async def shown(w: MainWindow, size: tuple[int, int], split: tuple[int, int] | None = None) -> None:
    w.resize(*size)
    w.show()
    if split is not None:
        w.upper_splitter.setSizes(list(split))
    await until(lambda: w.trades_view.isVisible())
    w.trades_view.fit_columns()


def assert_visible(w: MainWindow) -> None:
    view = w.trades_view
    viewport = view.viewport().rect()
    for column in MUST_SEE:
        rect = view.visualRect(w.trades.index(0, column))
        assert not view.isColumnHidden(column), column.name
        assert viewport.contains(rect), f"{column.name} {rect} outside {viewport}"


@pytest.mark.qasync
@pytest.mark.parametrize(("size", "split"), [((1280, 800), None), ((1024, 640), (700, 300))])
async def test_columns_that_matter_are_visible(ready: Services, bridge: EngineBridge, size, split) -> None:
    w = window(ready, bridge, [], [])
    await w.load()
    for symbol in ("EURUSD", "GBPUSD", "USDJPY"):
        await register_buy(ready, symbol, r=0.2 if symbol == "USDJPY" else 0.002)
    await ready.engine.step()
    await w.account_strip.load()
    assert "GBPUSD" in w.account_strip.text("Open risk")
    assert w.minimumSizeHint().width() <= 1024, "nothing makes the window wider than a 1024 screen"
    await shown(w, size, split)
    assert w.width() == size[0]
    assert_visible(w)
    # a value that grows after the first fit is not cut: every column holds its widest value
    view = w.trades_view
    metrics = view.fontMetrics()
    for column in MUST_SEE:
        for text in ("WARNING_L2", "RECOVERING") if column is Column.STATE else ():
            assert view.columnWidth(column) >= metrics.horizontalAdvance(text), text
        assert view.columnWidth(column) >= view.least_width(column)
    await w.close_tasks()


@pytest.mark.qasync
async def test_columns_widths_and_sort_persist(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, [], [])
    await w.load()
    await register_buy(ready, "EURUSD")
    await register_buy(ready, "GBPUSD")
    await shown(w, (1280, 800))
    view = w.trades_view
    menu = view.build_column_menu()
    actions = {a.text(): a for a in menu.actions()}
    assert not actions["SL"].isChecked() and actions["State"].isChecked()
    actions["SL"].trigger()  # shown
    actions["Side"].trigger()  # hidden
    assert not view.isColumnHidden(Column.SL) and view.isColumnHidden(Column.DIRECTION)
    view.setColumnWidth(Column.SYMBOL, 151)
    view.sortByColumn(Column.SYMBOL, Qt.SortOrder.DescendingOrder)
    await w.close_tasks()  # saves the layout
    w.hide()

    again = window(ready, bridge, [], [])
    await again.load()
    await shown(again, (1280, 800))
    view = again.trades_view
    assert not view.isColumnHidden(Column.SL) and view.isColumnHidden(Column.DIRECTION)
    assert view.columnWidth(Column.SYMBOL) == 151
    header = view.horizontalHeader()
    assert header.sortIndicatorSection() == Column.SYMBOL
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    symbols = [again.trades.index(r, Column.SYMBOL).data() for r in range(again.trades.rowCount())]
    assert symbols == ["GBPUSD", "EURUSD"], "restored sort applied to the rows"
    await again.close_tasks()


@pytest.mark.qasync
async def test_a_selected_row_keeps_its_state_and_profit_colours(ready: Services, bridge: EngineBridge) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    from app.engine.model import DefensiveState
    from app.views.palette import state_colour

    w = window(ready, bridge, [], [])
    await register_buy(ready, "EURUSD")
    await shown(w, (1280, 800))
    w.trades_view.selectRow(0)
    index = w.trades.index(0, Column.STATE)
    option = QStyleOptionViewItem()
    option.initFrom(w.trades_view)
    option.state |= QStyle.StateFlag.State_Selected
    w.trades_view.itemDelegateForColumn(Column.STATE).initStyleOption(option, index)
    assert option.palette.color(QPalette.ColorRole.HighlightedText) == state_colour(DefensiveState.HEALTHY)
    assert w.trades_view.itemDelegateForColumn(Column.SYMBOL) is None, "plain columns keep Qt's own delegate"
    await w.close_tasks()


def test_the_header_menu_leaves_nothing_behind(qtbot) -> None:
    """Built again at each right-click: a window open for months must not keep every menu it ever showed."""
    view = TradeTable(QStandardItemModel(0, 3))
    qtbot.addWidget(view)
    for _ in range(30):
        view.build_column_menu()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(view.findChildren(QMenu)) == 1 and view.column_menu in view.findChildren(QMenu)
