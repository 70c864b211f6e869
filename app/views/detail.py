"""The selected trade in detail: a header refreshed at every cycle (state, score, profit, R as a distance and
in money), the one-click actions, and tabs for the chart, the action journal, the state history and the score.

The pane shows the trade it was given until it is given another (or none): when that trade closes it says
so and stays on it, it never moves to another trade by itself. Nothing selected: a placeholder text.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.engine.broker import SymbolRules
from app.engine.market_data import M5_SECONDS, M15_SECONDS
from app.engine.model import ActionRecord, Trade, Transition
from app.engine.prices import price_text
from app.engine.registry import SYNTHETIC_R_OF_ENTRY, owner_name
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.journal_rows import journal_rows, sl_tp_steps
from app.views.palette import state_colour
from app.views.score_view import ScoreView
from app.views.theme import themes
from app.views.trade_actions import (
    AskVolume,
    Confirm,
    Inform,
    TradeActions,
    ask,
    ask_volume,
    inform,
)
from app.views.trade_chart import TradeChart

logger = logging.getLogger(__name__)

_TICKET = itemgetter("ticket")

__all__ = ["Confirm", "DetailPane", "ask"]

PLACEHOLDER = (
    "Select a trade in the table to see what DTMS did and why: its chart, the journal of every "
    "action with MT5's answer, its state history and its score."
)
TIMEFRAMES = {"M5": M5_SECONDS, "M15": M15_SECONDS}


def _last_bar_time(bars: np.ndarray | None) -> float:
    return float(bars["time"][-1]) if bars is not None and len(bars) else 0.0


def _time(at: float | None) -> str:
    """Terminal (broker server) time, as the journal keeps it."""
    return datetime.fromtimestamp(at, tz=UTC).strftime("%m-%d %H:%M:%S") if at else ""


def r_distance(r: float, rules: SymbolRules) -> str:
    """A distance as traders read it: in pips on a currency pair, in price on anything else (crypto, metals,
    indices), where a pip means nothing."""
    if rules.forex:
        return f"{r / rules.pip:,.1f} pips"
    return f"{r:,.{rules.digits}f} in price"


def synthetic_r_note(trade: Trade, atr_multiple: float) -> str:
    """Where the R of a trade registered without a stop loss on the risk side came from: as the registry set
    it, kept with the trade; for a trade registered before that was kept, the registry's rule with today's
    ``atr_multiple`` (which may since have changed, so the note says so)."""
    why = "stop loss past entry" if trade.initial_sl else "no stop loss"
    if trade.r_basis:
        basis = trade.r_basis
    elif math.isclose(trade.r, SYNTHETIC_R_OF_ENTRY * trade.entry, rel_tol=1e-9):
        basis = f"{SYNTHETIC_R_OF_ENTRY:.1%} of entry"
    else:
        basis = f"ATR (M15) x the multiple of its registration, {atr_multiple:g} now"
    return f"({why}: R set at {basis})"


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # long details are cut in the cell
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    for c in range(table.columnCount() - 1):  # no column pushes the last (the longest text) out of sight
        table.setColumnWidth(c, min(table.columnWidth(c), 200))


class DetailPane(QWidget):
    def __init__(
        self,
        bridge: EngineBridge,
        *,
        confirm: Confirm = ask,
        notify: Inform = inform,
        volume: AskVolume = ask_volume,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._tasks = TaskKeeper("detail")
        self.ticket: int | None = None
        self.trade: Trade | None = None
        #: the last live values (price, profit, R) of a ticket, from the trades table (set by the window)
        self.live_values: Callable[[int], dict[str, Any] | None] = lambda _ticket: None
        self._live: dict[str, Any] | None = None
        self.closed_text = ""
        self.placeholder = QLabel(PLACEHOLDER)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setObjectName("detailPlaceholder")
        self.title = QLabel()
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.title.setMinimumWidth(200)
        self.figures = QLabel()
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.closed_note = QLabel()
        self.closed_note.setObjectName("detailClosed")
        self.closed_note.setWordWrap(True)
        self.closed_note.setStyleSheet("background: #f6e3b4; color: #5a4400; padding: 4px; border-radius: 3px;")
        self.closed_note.hide()
        self.trade_actions = TradeActions(self._engine, confirm=confirm, notify=notify, volume=volume)
        self.stop_button = self.trade_actions.stop_button
        self.timeframe = QComboBox()
        self.timeframe.addItems(list(TIMEFRAMES))
        self.timeframe.setToolTip("candle timeframe")
        self.timeframe.currentTextChanged.connect(lambda _t: self._redraw_chart())
        themes().changed.connect(self._on_theme)  # a slot of the pane: the connection ends with the pane
        self.chart = TradeChart()
        chart_page = QWidget()
        chart_layout = QVBoxLayout(chart_page)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Candles"))
        bar.addWidget(self.timeframe)
        legend = QLabel("diamonds: DTMS actions (hover for the journal entry); lines: SL and TP over time")
        legend.setWordWrap(True)  # wraps in a narrow pane rather than widening it
        bar.addWidget(legend, 1)
        chart_layout.addLayout(bar)
        chart_layout.addWidget(self.chart, 1)
        self.journal = _table(("At", "Action", "Outcome", "What", "Reason", "MT5 answer"))
        self.transitions = _table(("At", "From", "To", "Score", "Reason"))
        self.score = ScoreView()
        self.tabs = QTabWidget()
        self.tabs.addTab(chart_page, "Chart")
        self.tabs.addTab(self.journal, "Actions")
        self.tabs.addTab(self.transitions, "States")
        self.tabs.addTab(self.score, "Score")
        self.content = content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.figures)
        layout.addWidget(self.closed_note)
        layout.addWidget(self.trade_actions)
        layout.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._records: list[ActionRecord] = []
        self._bars_drawn_to = 0.0  # the time of the last bar the chart was drawn with
        self._transitions: list[Transition] = []
        for signal in (
            bridge.action,
            bridge.state_changed,
            bridge.trade_changed,
            bridge.trade_closed,
            bridge.trade_unregistered,
        ):
            signal.connect(lambda p: self.select(self.ticket) if p.get("ticket") == self.ticket else None)
        bridge.trade_updated.connect(self._on_prices)

    @property
    def showing_placeholder(self) -> bool:
        return self.stack.currentWidget() is self.placeholder

    def select(self, ticket: int | None) -> None:
        """Show a trade (loaded in a kept task: journal and history come from the database), or nothing."""
        if ticket != self.ticket:
            self.trade = None
            self._live = None if ticket is None else self.live_values(ticket)
        self.ticket = ticket
        if ticket is None:
            self.stack.setCurrentWidget(self.placeholder)
            self.trade_actions.show_trade(None)
            return
        self._tasks.spawn(self.load(ticket), f"load-{ticket}")

    async def load(self, ticket: int) -> None:
        trade = await self._engine.find_trade(ticket)
        transitions = await self._engine.transitions(ticket)
        journal = await self._engine.journal(ticket)
        if trade is not None:
            await self._engine.market.learn(trade.symbol)  # a closed trade's symbol may not be managed in this run
        if ticket != self.ticket or trade is None:
            return
        self._show(trade, transitions, journal)

    # --- drawing ------------------------------------------------------------------------------------

    def _show(self, trade: Trade, transitions: list[Transition], journal: list[ActionRecord]) -> None:
        again = self.trade is not None and self.trade.ticket == trade.ticket  # a change of the trade shown
        self.trade = trade
        self._records, self._transitions = journal, transitions
        self.stack.setCurrentWidget(self.content)
        self._header(trade, self._live)
        self.closed_text = self._closed_text(trade)
        self.closed_note.setText(self.closed_text)
        self.closed_note.setVisible(bool(self.closed_text))
        self.trade_actions.show_trade(trade)
        rows = journal_rows(trade, journal, transitions, self._engine.market.digits(trade.symbol))
        _fill(
            self.journal,
            [
                (_time(r.at), r.kind, r.outcome, "; ".join(x for x in (r.change, r.order) if x), r.reason, r.mt5)
                for r in reversed(rows)
            ],
        )
        _fill(
            self.transitions,
            [(_time(t.at), t.from_state.value, t.to_state.value, f"{t.score:+z.2f}", t.reason) for t in transitions],
        )
        self.score.show_score(
            trade,
            self._engine.last_score(trade.ticket) if trade.active else None,
            self._engine.settings.defense,
            paused=self._engine.paused,
        )
        self._redraw_chart(keep_view=again)

    @Slot(object)
    def _on_theme(self, _theme: object) -> None:
        """The chart's colours follow the theme."""
        self._redraw_chart(keep_view=True)

    def _shown_bars(self) -> tuple[float, np.ndarray | None]:
        """The chosen timeframe's length and the engine's bars of it for the shown trade's symbol."""
        seconds = TIMEFRAMES[self.timeframe.currentText()]
        data = None if self.trade is None else self._engine.market.get(self.trade.symbol)
        return seconds, None if data is None else (data.m5 if seconds == M5_SECONDS else data.m15)

    def _redraw_chart(self, *, keep_view: bool = False) -> None:
        trade = self.trade
        if trade is None:
            return
        data = self._engine.market.get(trade.symbol)
        seconds, bars = self._shown_bars()
        self._bars_drawn_to = _last_bar_time(bars)
        end = (
            trade.closed_at
            or self._engine.clock.now()
            or (float(bars["time"][-1]) if bars is not None and len(bars) else 0.0)
        )
        start = trade.opened_at or trade.registered_at or end
        digits = self._engine.market.digits(trade.symbol)
        rows = journal_rows(trade, self._records, self._transitions, digits)
        sl_steps, tp_steps = sl_tp_steps(trade, self._records, start, max(start, end))
        self.chart.show_trade(
            trade,
            bars,
            seconds=seconds,
            breakeven_r=self._engine.settings.protection.breakeven_r,
            rows=rows,
            sl_steps=sl_steps,
            tp_steps=tp_steps,
            bid=data.bid if data is not None else 0.0,
            ask=data.ask if data is not None else 0.0,
            digits=digits,
            keep_view=keep_view,
        )

    def _header(self, trade: Trade, live: dict[str, Any] | None) -> None:
        colour = state_colour(trade.state).name()
        paused = " &nbsp; <span style='color:#e06c00'><b>DTMS PAUSED HERE</b></span>" if trade.dtms_paused else ""
        self.title.setText(
            f"<b>#{trade.ticket} {trade.symbol} {trade.direction.value} {trade.volume:g} lots</b> "
            f"&nbsp; <span style='color:{colour}'><b>{trade.state.value}</b></span> &nbsp; score&nbsp;"
            f"<b>{trade.score:+z.2f}</b> &nbsp; owner&nbsp;{owner_name(trade.managed_by)}{paused}"  # a name, its value
        )
        self.figures.setText(self._figures(trade, live))

    def _figures(self, trade: Trade, live: dict[str, Any] | None) -> str:
        data = self._engine.market.get(trade.symbol)
        rules = self._engine.market.rules(trade.symbol)
        digits = rules.digits if rules is not None else None
        parts = [
            f"entry {price_text(trade.entry, digits)}",
            f"SL {price_text(trade.sl, digits)}" if trade.sl else "no SL",
            f"TP {price_text(trade.tp, digits)}" if trade.tp else "no TP",
        ]
        if not trade.active:
            if trade.close_profit is not None:
                parts.append(f"result <b>{trade.close_profit:+z,.2f}</b>")
        elif live is not None:
            parts.append(f"profit <b>{live.get('profit', 0.0):+z,.2f}</b> ({live.get('profit_r', 0.0):+z.2f}&nbsp;R)")
        elif data is not None and data.bid:
            parts.append(f"profit {trade.profit_in_r(data.bid, data.ask):+z.2f}&nbsp;R")
        if trade.r > 0 and rules is not None:
            volume = trade.volume or trade.initial_volume  # a closed trade's volume is 0: the volume it had
            money = rules.money(trade.r, volume) if volume > 0 else None
            r_text = f"1&nbsp;R&nbsp;=&nbsp;{r_distance(trade.r, rules)}" + (
                f" = {money:,.2f} at {volume:g} lots" if money is not None else ""
            )
            if trade.synthetic_r:
                r_text += " " + synthetic_r_note(trade, self._engine.settings.protection.synthetic_r_atr_multiple)
            parts.append(r_text)
        return "&nbsp;&nbsp;|&nbsp; ".join(parts)  # a line breaks after a separator, never before

    def _closed_text(self, trade: Trade) -> str:
        if trade.active:
            return ""
        when = _time(trade.closed_at)
        reason = trade.close_reason or "no longer managed"
        if reason.startswith("management stopped"):
            return f"DTMS stopped managing this trade at {when}: the position may still be open in MetaTrader 5."
        price = (
            f" at {price_text(trade.close_price, self._engine.market.digits(trade.symbol))}"
            if trade.close_price
            else ""
        )
        result = f", result {trade.close_profit:+z,.2f}" if trade.close_profit is not None else ""
        return f"This trade closed at {when}: {reason}{price}{result}. The pane stays on it until you select another."

    def _on_prices(self, rows: list[dict[str, Any]]) -> None:
        """At every cycle: the header's score, profit and R, and the chart's bid and ask (nothing redrawn).
        ``rows`` are the trades whose values changed: when this one is not among them its last values hold."""
        trade = self.trade
        if trade is None or not trade.active:
            return
        try:
            row = rows[list(map(_TICKET, rows)).index(trade.ticket)]  # found in C: rows can be thousands
        except ValueError:
            pass
        else:
            self._live = {**(self._live or {}), **row}
        live = self._live
        current = self._engine.trade(trade.ticket)
        if current is not None:
            self.trade = trade = current
        self._header(trade, live)
        if _last_bar_time(self._shown_bars()[1]) != self._bars_drawn_to:
            self._redraw_chart(keep_view=True)  # a bar closed: its candle, and the SL and TP drawn up to now
            return
        data = self._engine.market.get(trade.symbol)
        if data is not None:
            self.chart.update_price(data.bid, data.ask)

    async def close_tasks(self) -> None:
        await self.trade_actions.close_tasks()
        await self._tasks.cancel_all(timeout=1.0)
