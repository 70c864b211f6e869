"""One-click actions on the selected trade: close, close a part (25/50/75 % or a volume), breakeven now, pause
DTMS for this trade, stop managing it. Each shows exactly what will be sent and asks first; the order goes
through the engine (its executor: broker rules, retcode handling, journal) and the real outcome is shown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.engine.manual import ManualPlan
from app.engine.model import Trade
from app.errors import DtmsError
from app.tasks import TaskKeeper
from app.views.flow_layout import FlowLayout

logger = logging.getLogger(__name__)

Confirm = Callable[[QWidget, str], bool]
Inform = Callable[[QWidget, str], None]
AskVolume = Callable[[QWidget, float, float, float], float | None]  # (parent, current, minimum, step)


def confirm_box(parent: QWidget | None, text: str) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "DTMS Desk - confirm",
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).setText("Send")
    return box


def ask(parent: QWidget, question: str) -> bool:
    return confirm_box(parent, question).exec() == QMessageBox.StandardButton.Yes


def inform(parent: QWidget, text: str) -> None:
    QMessageBox.information(parent, "DTMS Desk", text)


def ask_volume(parent: QWidget, current: float, minimum: float, step: float) -> float | None:
    decimals = max(0, len(f"{step:g}".partition(".")[2]))
    value, ok = QInputDialog.getDouble(
        parent, "Close a part", f"Lots to close (of {current:g}):", current / 2, minimum, current, decimals
    )
    return value if ok else None


def _request_lines(request: dict[str, Any]) -> str:
    return "<br>".join(f"&nbsp;&nbsp;{key}: <b>{value}</b>" for key, value in request.items())


def confirmation_text(plan: ManualPlan) -> str:
    """What the trader confirms: the action in words and the request as it will be sent."""
    return (
        f"<b>{plan.summary}</b><br><br>Request sent to MetaTrader 5 (the price is taken again when sent):"
        f"<br>{_request_lines(plan.request)}<br><br>The answer is journaled with its real outcome."
    )


class TradeActions(QWidget):
    """The buttons; ``result`` shows the outcome of the last action in words."""

    def __init__(
        self,
        engine: Any,
        *,
        confirm: Confirm = ask,
        notify: Inform = inform,
        volume: AskVolume = ask_volume,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._confirm = confirm
        self.notify = notify
        self.ask_volume = volume
        self._tasks = TaskKeeper("trade-actions")
        self.ticket: int | None = None
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("close the whole position at market (asks first)")
        self.part_button = QToolButton()
        self.part_button.setText("Close part")
        self.part_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.part_button)
        for percent in (25, 50, 75):
            menu.addAction(f"{percent} %", partial(self.close_part, fraction=percent / 100))
        menu.addAction("A volume...", self.close_volume)
        self.part_button.setMenu(menu)
        self.part_menu = menu
        self.breakeven_button = QPushButton("Breakeven now")
        self.breakeven_button.setToolTip("move the SL to the entry price now (asks first)")
        self.pause_button = QPushButton("Pause DTMS here")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("DTMS sends nothing for this trade until resumed (kept across restarts)")
        self.stop_button = QPushButton("Stop managing")
        self.stop_button.setToolTip("DTMS forgets this trade; the position stays open in MetaTrader 5")
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setObjectName("actionResult")
        self.close_button.clicked.connect(lambda: self.close_part(fraction=None))
        self.breakeven_button.clicked.connect(self.breakeven)
        self.pause_button.clicked.connect(self._on_pause)
        self.stop_button.clicked.connect(self._on_stop)
        row = FlowLayout()  # wraps in a narrow pane rather than widening it
        for button in (self.close_button, self.part_button, self.breakeven_button, self.pause_button, self.stop_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.result.hide()
        self.show_trade(None)

    def show_trade(self, trade: Trade | None) -> None:
        """Enable what makes sense for this trade (DTMS's own, open, engine ready)."""
        if trade is None or trade.ticket != self.ticket:
            self.result.hide()
        self.ticket = trade.ticket if trade is not None else None
        own = trade is not None and trade.active and trade.managed_by == "DTMS" and self._engine.ready
        for button in (self.close_button, self.part_button, self.breakeven_button, self.pause_button):
            button.setEnabled(own)
        self.stop_button.setEnabled(trade is not None and trade.active and self._engine.ready)
        self.pause_button.setChecked(bool(trade is not None and trade.dtms_paused))
        self.pause_button.setText("Resume DTMS here" if trade is not None and trade.dtms_paused else "Pause DTMS here")
        if trade is not None and trade.active and trade.managed_by != "DTMS":
            self.close_button.setToolTip(f"managed by {trade.managed_by}: DTMS does not act on it")

    # --- the actions ---------------------------------------------------------------------------------

    def close_part(self, *, fraction: float | None) -> None:
        if self.ticket is None:
            return
        self._plan_and_send(lambda: self._engine.plan_close(self.ticket, fraction=fraction))

    def close_volume(self) -> None:
        trade = self._engine.trade(self.ticket) if self.ticket is not None else None
        data = self._engine.market.get(trade.symbol) if trade is not None else None
        if trade is None or data is None:
            return
        lots = self.ask_volume(self, trade.volume, data.rules.volume_min, data.rules.volume_step)
        if lots is not None:
            self._plan_and_send(lambda: self._engine.plan_close(trade.ticket, volume=lots))

    def breakeven(self) -> None:
        if self.ticket is not None:
            self._plan_and_send(lambda: self._engine.plan_breakeven(self.ticket))

    def _plan_and_send(self, make: Callable[[], ManualPlan]) -> None:
        try:
            plan = make()
        except DtmsError as error:
            self.notify(self, f"Nothing sent: {error}")
            return
        if plan.refused:
            self.notify(self, f"{plan.summary}<br><br><b>Not possible now:</b> {plan.refused}. Nothing is sent.")
            return
        if not self._confirm(self, confirmation_text(plan)):
            return
        self._show_result(f"Sending: {plan.summary}...", ok=True)
        self._tasks.spawn(self._send(plan), f"manual-{plan.kind.value}-{plan.ticket}")

    async def _send(self, plan: ManualPlan) -> None:
        try:
            result = await self._engine.run_manual(plan)
        except DtmsError as error:
            self._show_result(f"Not sent: {error}", ok=False)
            return
        self._show_result(result.message, ok=result.ok)

    def _show_result(self, text: str, *, ok: bool) -> None:
        self.result.setText(text)
        self.result.setProperty("ok", ok)
        self.result.setStyleSheet("" if ok else "color: #c0392b; font-weight: bold;")
        self.result.show()

    def _on_pause(self, checked: bool) -> None:
        ticket = self.ticket
        if ticket is None:
            return
        question = (
            f"Pause DTMS for trade #{ticket} only? Nothing is sent for it (no breakeven, trailing or "
            "defence) until you resume it; other trades stay protected."
            if checked
            else f"Resume DTMS for trade #{ticket}?"
        )
        if not self._confirm(self, question):
            self.pause_button.setChecked(not checked)
            return
        self._tasks.spawn(self._pause(ticket, checked), f"pause-{ticket}")

    async def _pause(self, ticket: int, paused: bool) -> None:
        try:
            trade = await self._engine.set_trade_paused(ticket, paused)
        except DtmsError as error:
            self._show_result(f"Not changed: {error}", ok=False)
            return
        self._show_result("DTMS paused for this trade." if paused else "DTMS resumed for this trade.", ok=True)
        self.show_trade(trade)

    def _on_stop(self) -> None:
        ticket = self.ticket
        if ticket is None:
            return
        if not self._confirm(
            self,
            f"Stop managing trade #{ticket}? DTMS will no longer protect it (the position stays open in MetaTrader 5).",
        ):
            return
        self.stop_button.setEnabled(False)
        self._tasks.spawn(self._engine.unregister(ticket), f"unregister-{ticket}")

    async def close_tasks(self) -> None:
        await self._tasks.cancel_all(timeout=1.0)
