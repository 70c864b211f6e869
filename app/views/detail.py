"""The selected trade in detail: state history, action journal with MT5 outcomes, score explanation, and a
chart of recent M5 bars with entry, SL, TP and the breakeven trigger drawn."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMessageBox, QPushButton, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from app.engine.model import ActionRecord, Direction, Trade, Transition
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import state_colour
from app.views.theme import current as current_theme
from app.views.theme import follow_theme

logger = logging.getLogger(__name__)

CHART_BARS = 120
Confirm = Callable[[QWidget, str], bool]


def ask(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "DTMS Desk", question)
    return answer == QMessageBox.StandardButton.Yes


def _time(at: float | None) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%m-%d %H:%M:%S") if at else ""


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # long details are cut in the cell
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class TradeChart(pg.PlotWidget):
    """Close prices of recent M5 bars and the trade's levels as labelled horizontal lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        follow_theme(self)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.levels: dict[str, float] = {}

    def show_trade(self, trade: Trade, bars: np.ndarray | None, breakeven_r: float) -> None:
        """Draw the bars and levels; the price range holds every level with room above the highest for its label."""
        self.clear()
        self.levels = {}
        colours = current_theme().chart
        prices: list[float] = []
        if bars is not None and len(bars):
            recent = bars[-CHART_BARS:]
            closes = recent["close"].astype(float)
            self.plot(recent["time"].astype(float), closes, pen=pg.mkPen(colours.price, width=1.5))
            prices += [float(closes.min()), float(closes.max())]
        sign = 1 if trade.direction is Direction.BUY else -1
        levels = {"entry": (trade.entry, colours.entry), "SL": (trade.sl, colours.sl), "TP": (trade.tp, colours.tp)}
        if trade.r > 0 and not trade.breakeven_triggered:
            levels["BE trigger"] = (trade.entry + sign * breakeven_r * trade.r, colours.trigger)
        for name, (price, colour) in levels.items():
            if price:
                self.levels[name] = price
                # labels start at the left edge, just above their line, so none runs under the price axis
                self.addItem(pg.InfiniteLine(pos=price, angle=0, pen=pg.mkPen(colour, style=Qt.PenStyle.DashLine),
                                             label=name, labelOpts={"position": 0.01, "color": colour,
                                                                    "anchors": [(0, 1), (0, 1)]}))
        prices += self.levels.values()
        if prices:
            low, high = min(prices), max(prices)
            room = (high - low) * 0.08 or abs(high) * 1e-4
            self.setYRange(low - room, high + 1.5 * room, padding=0)


class DetailPane(QWidget):
    def __init__(self, bridge: EngineBridge, *, confirm: Confirm = ask, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._confirm = confirm
        self._tasks = TaskKeeper("detail")
        self.ticket: int | None = None
        self.title = QLabel("Select a trade to see its history")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.title.setMinimumWidth(200)
        self.stop_button = QPushButton("Stop managing")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self._on_stop)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.transitions = _table(("At", "From", "To", "Score", "Reason"))
        self.journal = _table(("At", "Action", "Outcome", "Retcode", "Attempt", "Detail"))
        self.chart = TradeChart()
        tabs = QTabWidget()
        tabs.addTab(self.chart, "Chart")
        tabs.addTab(self.journal, "Actions")
        tabs.addTab(self.transitions, "States")
        tabs.addTab(self.explanation, "Score")
        self.tabs = tabs
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(tabs, 1)
        for signal in (bridge.action, bridge.state_changed, bridge.trade_changed):
            signal.connect(lambda p: self.select(self.ticket) if p.get("ticket") == self.ticket else None)

    def select(self, ticket: int | None) -> None:
        """Show a trade (loaded in a kept task: journal and history come from the database)."""
        self.ticket = ticket
        if ticket is not None:
            self._tasks.spawn(self.load(ticket), f"load-{ticket}")

    async def load(self, ticket: int) -> None:
        trade = await self._engine.find_trade(ticket)
        transitions = await self._engine.transitions(ticket)
        journal = await self._engine.journal(ticket)
        if ticket != self.ticket or trade is None:
            return
        self._show(trade, transitions, journal)

    def _show(self, trade: Trade, transitions: list[Transition], journal: list[ActionRecord]) -> None:
        colour = state_colour(trade.state).name()
        r_note = " (synthetic R)" if trade.synthetic_r else ""
        self.title.setText(f"<b>#{trade.ticket} {trade.symbol} {trade.direction.value} {trade.volume:g}</b> "
                           f"&nbsp; <span style='color:{colour}'><b>{trade.state.value}</b></span> "
                           f"&nbsp; score {trade.score:+.2f} &nbsp; R {trade.r:.5g}{r_note} &nbsp; owner {trade.managed_by}")
        self.stop_button.setEnabled(trade.active and self._engine.ready)
        self.explanation.setText(trade.score_explanation or "No score yet: it is computed at the next deep check.")
        _fill(self.transitions, [(_time(t.at), t.from_state.value, t.to_state.value, f"{t.score:+.2f}", t.reason)
                                 for t in transitions])
        _fill(self.journal, [(_time(a.at), a.kind.value, a.outcome.value, "" if a.retcode is None else str(a.retcode),
                              str(a.attempt), a.detail or a.comment) for a in journal])
        data = self._engine.market.get(trade.symbol)
        self.chart.show_trade(trade, data.m5 if data is not None else None, self._engine.settings.protection.breakeven_r)

    def _on_stop(self) -> None:
        ticket = self.ticket
        if ticket is None:
            return
        if not self._confirm(self, f"Stop managing trade #{ticket}? DTMS will no longer protect it "
                                   "(the position stays open in MetaTrader 5)."):
            return
        self.stop_button.setEnabled(False)
        self._tasks.spawn(self._engine.unregister(ticket), f"unregister-{ticket}")

    async def close_tasks(self) -> None:
        await self._tasks.cancel_all(timeout=1.0)
