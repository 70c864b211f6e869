"""The trader's confirmation of trades watched as "unconfirmed" after a database loss with no backup: a
context-menu action on the trades table for the selected trade, and one for all of them."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QTableView

from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.trades_model import TradesModel

logger = logging.getLogger(__name__)

UNCONFIRMED = "unconfirmed"


class OwnerConfirmation:
    def __init__(self, table: QTableView, model: TradesModel, bridge: EngineBridge) -> None:
        self._table = table
        self._model = model
        self._engine = bridge.engine
        self._tasks = TaskKeeper("confirm-owner")
        self.confirm_one = QAction("Confirm: DTMS manages this trade", table)
        self.confirm_all = QAction("Confirm all unconfirmed trades", table)
        self.confirm_one.triggered.connect(self._on_confirm_one)
        self.confirm_all.triggered.connect(self._on_confirm_all)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        table.addAction(self.confirm_one)
        table.addAction(self.confirm_all)
        table.selectionModel().selectionChanged.connect(lambda *_: self.refresh())
        for signal in (bridge.trade_changed, bridge.trade_registered, bridge.database_recovered, bridge.lifecycle):
            signal.connect(lambda *_: self.refresh())
        self.refresh()

    def selected_ticket(self) -> int | None:
        rows = self._table.selectionModel().selectedRows()
        if not rows:
            return None
        return self._model.ticket_at(rows[0].row())

    def refresh(self) -> None:
        ticket = self.selected_ticket()
        trade = self._engine.trade(ticket) if ticket is not None else None
        self.confirm_one.setEnabled(trade is not None and trade.managed_by == UNCONFIRMED)
        self.confirm_all.setEnabled(any(t.managed_by == UNCONFIRMED for t in self._engine.trades()))

    def _on_confirm_one(self) -> None:
        ticket = self.selected_ticket()
        if ticket is not None:
            self._tasks.spawn(self._engine.confirm(ticket), f"confirm-{ticket}")

    def _on_confirm_all(self) -> None:
        self._tasks.spawn(self._engine.confirm_all(), "confirm-all")

    async def close_tasks(self) -> None:
        await self._tasks.cancel_all(timeout=1.0)
