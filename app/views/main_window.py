"""The main window: lifecycle banner, managed and closed-today tables, the selected trade's detail, the
health panel and the event log, and a File menu with the settings dialog. Closing it hides it to the tray
when there is one; otherwise it quits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.alerts.outputs import AlertOutputs
from app.config import AppSettings, load_settings
from app.errors import InvalidSettings
from app.views.banner import LifecycleBanner
from app.views.bridge import EngineBridge
from app.views.confirm_owner import OwnerConfirmation
from app.views.closed_model import ClosedTradesModel
from app.views.detail import Confirm, DetailPane, ask
from app.views.health import HealthPanel
from app.views.log_panel import EventLogPanel
from app.views.notifications import Notifier
from app.views.settings_dialog import RESTART_NOTE, SettingsDialog
from app.views.table_view import TradeTable
from app.views.table_order import TradesFilter
from app.views.trades_model import TradesModel
from app.views.tray import NotificationStrip, TrayController

logger = logging.getLogger(__name__)

STATUS_SECONDS = 10


class MainWindow(QMainWindow):
    """``settings`` are those the program runs with and ``config_path`` the file they came from, which the
    settings dialog edits."""

    def __init__(self, bridge: EngineBridge, *, quit_program: Callable[[], None], simulated: bool, terminal: str,
                 database: Path, settings: AppSettings, config_path: Path,
                 account: Callable[[], Awaitable[Any]] | None = None, api: Any | None = None,
                 tray_available: bool | None = None, confirm: Confirm = ask,
                 notify_interval_s: float = 5.0, alerts: AlertOutputs | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._config_path = config_path
        self._database = database
        self._simulated = simulated
        self.settings_dialog: SettingsDialog | None = None
        self.replay_dialog: Any = None
        self.setWindowTitle("DTMS Desk" + (" - SIMULATOR" if simulated else ""))
        self.resize(1240, 760)
        self._quit_program = quit_program
        self.bridge = bridge
        self.banner = LifecycleBanner(bridge, simulated=simulated)
        self.strip = NotificationStrip()
        # connected before the table's model, so the selected row is let go before the model removes it
        bridge.trade_closed.connect(self._on_trade_leaving)
        bridge.trade_unregistered.connect(self._on_trade_leaving)
        self.trades = TradesModel(bridge, self)
        self.proxy = TradesFilter(self.trades, self)
        self.closed = ClosedTradesModel(bridge, self)
        self.closed_proxy = TradesFilter(self.closed, self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter trades (ticket, symbol, state, owner...)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter.textChanged.connect(self.closed_proxy.setFilterFixedString)
        self.trades_view = TradeTable(self.proxy)
        self.closed_view = TradeTable(self.closed_proxy)
        self.table_tabs = QTabWidget()
        self.table_tabs.addTab(self.trades_view, "Managed trades")
        self.table_tabs.addTab(self.closed_view, "Closed today")
        self.detail = DetailPane(bridge, confirm=confirm)
        self.health = HealthPanel(bridge, terminal=terminal, database=database, account=account, api=api)
        self.log = EventLogPanel(bridge)
        bottom = QTabWidget()
        bottom.addTab(self.health, "Health")
        bottom.addTab(self.log, "Event log")
        self.bottom_tabs = bottom

        upper = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.table_tabs)
        upper.addWidget(left)
        upper.addWidget(self.detail)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([740, 500])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(upper)
        outer.addWidget(bottom)
        outer.setSizes([480, 240])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.strip)
        layout.addWidget(outer, 1)
        self.setCentralWidget(central)
        self._build_menu()

        self.alerts = alerts or AlertOutputs(settings.alerts)
        self.notifier = Notifier(bridge, interval_s=notify_interval_s, outputs=self.alerts, parent=self)
        self.tray = TrayController(bridge, self.notifier, show_window=self.show_normal, quit_program=quit_program,
                                   strip=self.strip, tray_available=tray_available, parent=self)
        self.setWindowIcon(self.tray.icon)
        bridge.lifecycle.connect(lambda _p: self.setWindowIcon(self.tray.icon))
        self.trades_view.selectionModel().selectionChanged.connect(self._on_selected)
        self.closed_view.selectionModel().selectionChanged.connect(self._on_closed_selected)
        self.table_tabs.currentChanged.connect(lambda _i: self._sync_detail())
        self._keep_detail = False
        self.owner_confirmation = OwnerConfirmation(self.trades_view, self.trades, self.proxy, bridge)

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.replay_action = QAction("&Replay...", self)
        self.replay_action.triggered.connect(self.open_replay)
        menu.addAction(self.replay_action)
        self.settings_action = QAction("&Settings...", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        menu.addAction(self.settings_action)
        menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self._quit_program)
        menu.addAction(quit_action)

    def open_replay(self) -> Any:
        """File > Replay...: the replay dialog (non-modal; the replay runs in its own process)."""
        from app.views.replay.dialog import ReplayDialog

        if self.replay_dialog is None:
            history = None
            if not self._simulated:  # "my last N days" reads the real terminal's own history
                from app.runtime import RuntimeOptions
                from app.terminal.spec import TerminalKind

                history = RuntimeOptions(data_dir=self._database.parent, settings=self._settings,
                                         terminal=TerminalKind.MT5).terminal_spec()
            self.replay_dialog = ReplayDialog(settings=self._settings.engine, out_dir=self._database.parent / "replay",
                                              history_terminal=history, parent=self)
        self.replay_dialog.show()
        self.replay_dialog.raise_()
        return self.replay_dialog

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog on the file's current content (window-modal, without a nested loop)."""
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return self.settings_dialog
        notice = ""
        try:
            settings = load_settings(self._config_path)
        except InvalidSettings as error:
            settings = self._settings
            notice = f"{error}. The form shows the settings in use; saving replaces the file."
        dialog = SettingsDialog(settings, path=self._config_path, apply=self.bridge.engine.update_settings,
                                notice=notice, parent=self)
        dialog.saved.connect(self._on_settings_saved)
        dialog.finished.connect(self._on_settings_closed)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _on_settings_closed(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def _on_settings_saved(self, settings: AppSettings, endpoint_changed: bool) -> None:
        self._settings = settings
        self.alerts.update(settings.alerts)
        message = "Settings saved and applied." + (f" {RESTART_NOTE}" if endpoint_changed else "")
        self.statusBar().showMessage(message, STATUS_SECONDS * 1000)

    async def load(self) -> None:
        """What needs the database before the window is complete (the closed-today table)."""
        await self.closed.load()

    def show_normal(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def select_ticket(self, ticket: int) -> None:
        row = self.trades.row_of(ticket)
        if row is not None:
            self.trades_view.selectRow(self.proxy.mapFromSource(self.trades.index(row, 0)).row())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tray.has_tray:
            event.ignore()
            self.hide()
            return
        event.accept()
        self._quit_program()

    async def close_tasks(self) -> None:
        self.tray.hide()
        self.alerts.close()
        for part in (self.banner, self.detail, self.health, self.closed, self.owner_confirmation):
            await part.close_tasks()

    def _on_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.table_tabs.currentWidget() is self.trades_view:
            self._sync_detail()

    def _on_closed_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.table_tabs.currentWidget() is self.closed_view:
            self._sync_detail()

    def _on_trade_leaving(self, payload: dict[str, Any]) -> None:
        """A selected trade about to leave the table is deselected first, or Qt would select its neighbour and
        the pane would silently switch to another trade."""
        selection = self.trades_view.selectionModel()
        ticket = payload.get("ticket")
        if any(self.trades.ticket_at(self.proxy.mapToSource(index).row()) == ticket
               for index in selection.selectedIndexes()):
            self._keep_detail = True
            try:
                selection.clear()
            finally:
                self._keep_detail = False

    def _sync_detail(self) -> None:
        """The pane shows the row highlighted in the table on view. When its own trade leaves the table (it
        closed) it stays on it and says so; it never moves to another trade by itself."""
        managed = self.table_tabs.currentWidget() is not self.closed_view
        view = self.trades_view if managed else self.closed_view
        rows = view.selectionModel().selectedIndexes()
        if rows:
            if managed:
                ticket = self.trades.ticket_at(self.proxy.mapToSource(rows[0]).row())
            else:
                ticket = self.closed.tickets()[self.closed_proxy.mapToSource(rows[0]).row()]
            self.detail.select(ticket)
            return
        if self._keep_detail:
            return  # the selected row is leaving the table (its trade closed): the pane stays on it and says so
        self.detail.select(None)
