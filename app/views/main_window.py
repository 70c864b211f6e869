"""The main window: lifecycle banner, managed and closed-today tables, the selected trade's detail, the
health panel and the event log, and a File menu with the settings dialog. Closing it hides it to the tray
when there is one; otherwise it quits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.alerts.outputs import AlertOutputs
from app.config import AppSettings, load_settings
from app.errors import InvalidSettings
from app.views.account_strip import AccountStrip, money_per_price
from app.views.banner import LifecycleBanner
from app.views.bridge import EngineBridge
from app.views.closed_model import CLOSED_COLOURED, CLOSED_HIDDEN, CLOSED_WIDEST, ClosedTradesModel
from app.views.confirm_owner import OwnerConfirmation
from app.views.detail import Confirm, DetailPane, ask
from app.views.health import HealthPanel
from app.views.log_panel import EventLogPage, EventLogPanel
from app.views.notifications import Notifier
from app.views.settings_dialog import RESTART_NOTE, SettingsDialog
from app.views.table_order import TradesFilter
from app.views.table_view import ColumnSpec, TradeTable
from app.views.theme import themes
from app.views.trades_model import COLOURED, DEFAULT_HIDDEN, WIDEST, TradesModel
from app.views.tray import NotificationStrip, TrayController

logger = logging.getLogger(__name__)

STATUS_SECONDS = 10
#: the window's layout (columns, widths, sort), beside the database
LAYOUT_FILE = "window.ini"


class MainWindow(QMainWindow):
    """``settings`` are those the program runs with and ``config_path`` the file they came from, which the
    settings dialog edits."""

    def __init__(
        self,
        bridge: EngineBridge,
        *,
        quit_program: Callable[[], None],
        simulated: bool,
        terminal: str,
        database: Path,
        settings: AppSettings,
        config_path: Path,
        account: Callable[[], Awaitable[Any]] | None = None,
        api: Any | None = None,
        tray_available: bool | None = None,
        confirm: Confirm = ask,
        notify_interval_s: float = 5.0,
        alerts: AlertOutputs | None = None,
        gateway: Any | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._config_path = config_path
        self._database = database
        self._simulated = simulated
        self.settings_dialog: SettingsDialog | None = None
        self.replay_dialog: Any = None
        self.setWindowTitle("DTMS Desk" + (" - SIMULATOR" if simulated else ""))
        self.resize(1240, 760)
        self.layout_settings = QSettings(str(database.parent / LAYOUT_FILE), QSettings.Format.IniFormat)
        self._quit_program = quit_program
        self._confirm = confirm
        self._api = api
        self._hinted_tray = False
        self._state_when_hidden = Qt.WindowState.WindowNoState
        self.bridge = bridge
        self.banner = LifecycleBanner(
            bridge, simulated=simulated, open_rails=lambda: self.open_settings("Safety rails")
        )
        self.strip = NotificationStrip()
        # connected before the table's model, so the selected row is let go before the model removes it
        bridge.trade_closed.connect(self._on_trade_leaving)
        bridge.trade_unregistered.connect(self._on_trade_leaving)
        self.account_strip = AccountStrip(bridge, gateway)
        self.trades = TradesModel(bridge, self)
        self.closed = ClosedTradesModel(
            bridge,
            self,
            symbol_value=(lambda symbol: money_per_price(gateway, symbol)) if gateway is not None else None,
        )
        self.closed_proxy = TradesFilter(self.closed, self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter trades (ticket, symbol, state, owner...)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.trades.set_filter_text)
        self.filter.textChanged.connect(self.closed_proxy.setFilterFixedString)
        self.trades_view = TradeTable(
            self.trades,
            columns=ColumnSpec(hidden=DEFAULT_HIDDEN, widest=WIDEST, coloured=COLOURED),
            settings=self.layout_settings,
            key="managed",
        )
        self.trades.rows_in_view = self.trades_view.rows_in_view  # cycles signal only the rows on screen
        self.closed_view = TradeTable(
            self.closed_proxy,
            columns=ColumnSpec(widest=CLOSED_WIDEST, hidden=CLOSED_HIDDEN, coloured=CLOSED_COLOURED),
            settings=self.layout_settings,
            key="closed",
        )
        self.table_tabs = QTabWidget()
        self.table_tabs.addTab(self.trades_view, "Managed trades")
        self.closed_total = QLabel()
        self.closed_total.setObjectName("closedTotal")
        self.closed_total.setWordWrap(True)
        self.closed_page = closed_page = QWidget()  # the Closed today tab: the table and the day's total
        closed_layout = QVBoxLayout(closed_page)
        closed_layout.setContentsMargins(0, 0, 0, 0)
        closed_layout.addWidget(self.closed_view, 1)
        closed_layout.addWidget(self.closed_total)
        self.table_tabs.addTab(closed_page, "Closed today")
        for signal in (self.closed.modelReset, self.closed.rowsInserted):
            signal.connect(self._show_closed_total)
        self._show_closed_total()
        self.detail = DetailPane(bridge, confirm=confirm)
        self.detail.live_values = self.trades.live
        self.health = HealthPanel(bridge, terminal=terminal, database=database, account=account, api=api)
        self.log = EventLogPanel(bridge)
        bottom = QTabWidget()
        bottom.addTab(self.health, "Health")
        self.log_page = EventLogPage(self.log)
        bottom.addTab(self.log_page, "Event log")
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
        upper.setSizes([800, 440])
        self.upper_splitter = upper
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(upper)
        outer.addWidget(bottom)
        outer.setSizes([620, 100])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.account_strip)
        layout.addWidget(self.strip)
        layout.addWidget(outer, 1)
        self.setCentralWidget(central)
        self._build_menu()

        self.alerts = alerts or AlertOutputs(settings.alerts)
        self.notifier = Notifier(bridge, interval_s=notify_interval_s, outputs=self.alerts, parent=self)
        self.tray = TrayController(
            bridge,
            self.notifier,
            show_window=self.show_normal,
            quit_program=self.request_quit,
            strip=self.strip,
            tray_available=tray_available,
            parent=self,
        )
        self.setWindowIcon(self.tray.icon)
        bridge.lifecycle.connect(lambda _p: self.setWindowIcon(self.tray.icon))
        self.trades_view.selectionModel().selectionChanged.connect(self._on_selected)
        self.closed_view.selectionModel().selectionChanged.connect(self._on_closed_selected)
        self.table_tabs.currentChanged.connect(lambda _i: self._sync_detail())
        self._keep_detail = False
        self.owner_confirmation = OwnerConfirmation(self.trades_view, self.trades, bridge)

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
        quit_action.triggered.connect(self.request_quit)
        menu.addAction(quit_action)

    def open_replay(self) -> Any:
        """File > Replay...: the replay dialog (non-modal; the replay runs in its own process)."""
        from app.views.replay.dialog import ReplayDialog

        if self.replay_dialog is None:
            history = None
            if not self._simulated:  # "my last N days" reads the real terminal's own history
                from app.runtime import RuntimeOptions
                from app.terminal.spec import TerminalKind

                history = RuntimeOptions(
                    data_dir=self._database.parent, settings=self._settings, terminal=TerminalKind.MT5
                ).terminal_spec()
            self.replay_dialog = ReplayDialog(
                settings=self._settings.engine,
                out_dir=self._database.parent / "replay",
                history_terminal=history,
                parent=self,
            )
        self.replay_dialog.show()
        self.replay_dialog.raise_()
        return self.replay_dialog

    def open_settings(self, page: str = "") -> SettingsDialog:
        """Show the settings dialog on the file's current content (window-modal, without a nested loop), at
        ``page`` (a tab's title) when given."""
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.show_page(page)
            return self.settings_dialog
        notice = ""
        try:
            settings = load_settings(self._config_path)
        except InvalidSettings as error:
            settings = self._settings
            notice = f"{error}. The form shows the settings in use; saving replaces the file."
        listening = (self._api.url or "") if self._api is not None else ""
        dialog = SettingsDialog(
            settings,
            path=self._config_path,
            apply=self.bridge.engine.update_settings,
            notice=notice,
            listening=listening,
            parent=self,
        )
        dialog.saved.connect(self._on_settings_saved)
        dialog.finished.connect(self._on_settings_closed)
        self.settings_dialog = dialog
        dialog.show_page(page)
        dialog.open()
        return dialog

    def _on_settings_closed(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def _on_settings_saved(self, settings: AppSettings, endpoint_changed: bool) -> None:
        self._settings = settings
        self.alerts.update(settings.alerts)
        themes().apply(settings.window.theme)
        message = "Settings saved and applied." + (f" {RESTART_NOTE}" if endpoint_changed else "")
        self.statusBar().showMessage(message, STATUS_SECONDS * 1000)

    async def load(self) -> None:
        """What needs the database before the window is complete (the closed-today table)."""
        await self.closed.load()

    def show_normal(self) -> None:
        """Bring the window back as it was hidden (maximised stays maximised), never minimised."""
        state = (self.windowState() if self.isVisible() else self._state_when_hidden) & ~Qt.WindowState.WindowMinimized
        self.setWindowState(state)
        self.show()
        self.raise_()
        self.activateWindow()

    def protected_count(self) -> int:
        """Trades DTMS protects now (none while paused or not running)."""
        engine = self.bridge.engine
        return 0 if engine.paused or not engine.ready else len(engine.trades())

    def request_quit(self) -> bool:
        """Quit, after asking when trades would lose their protection; True if the program is stopping."""
        count = self.protected_count()
        if count:
            noun = "trade" if count == 1 else "trades"
            question = (
                f"{count} {noun} will no longer be protected: DTMS stops moving SLs, taking profits and "
                "defending until it runs again. Quit DTMS Desk?"
            )
            if not self._confirm(self, question):
                return False
        self._quit_program()
        return True

    def hide_to_tray(self) -> None:
        self._state_when_hidden = self.windowState()
        self.hide()
        if not self._hinted_tray:
            self._hinted_tray = True
            count = len(self.bridge.engine.trades())
            self.tray.hint(
                "DTMS Desk keeps running",
                f"DTMS still protects {count} trade{'' if count == 1 else 's'} from the tray. "
                "Use Quit in the tray menu to stop it.",
            )

    def select_ticket(self, ticket: int) -> None:
        row = self.trades.row_of(ticket)
        if row is not None:
            self.trades_view.selectRow(row)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        if self.tray.has_tray:
            self.hide_to_tray()
            return
        self.request_quit()

    def save_layout(self) -> None:
        """Columns shown, widths and sort of both tables, for the next start."""
        for view in (self.trades_view, self.closed_view):
            view.save_layout()

    async def close_tasks(self) -> None:
        self.save_layout()
        self.tray.hide()
        self.alerts.close()
        for part in (self.banner, self.account_strip, self.detail, self.health, self.closed, self.owner_confirmation):
            await part.close_tasks()

    def _on_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.table_tabs.currentWidget() is self.trades_view:
            self._sync_detail()

    def _show_closed_total(self, *_args: object) -> None:
        self.closed_total.setText(self.closed.total().text())

    def _on_closed_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.table_tabs.currentWidget() is self.closed_page:
            self._sync_detail()

    def _on_trade_leaving(self, payload: dict[str, Any]) -> None:
        """A selected trade about to leave the table is deselected first, or Qt would select its neighbour and
        the pane would silently switch to another trade."""
        selection = self.trades_view.selectionModel()
        ticket = payload.get("ticket")
        if any(self.trades.ticket_at(index.row()) == ticket for index in selection.selectedIndexes()):
            self._keep_detail = True
            try:
                selection.clear()
            finally:
                self._keep_detail = False

    def _sync_detail(self) -> None:
        """The pane shows the row highlighted in the table on view. When its own trade leaves the table (it
        closed) it stays on it and says so; it never moves to another trade by itself."""
        managed = self.table_tabs.currentWidget() is not self.closed_page
        view = self.trades_view if managed else self.closed_view
        rows = view.selectionModel().selectedIndexes()
        if rows:
            if managed:
                ticket = self.trades.ticket_at(rows[0].row())
            else:
                ticket = self.closed.tickets()[self.closed_proxy.mapToSource(rows[0]).row()]
            self.detail.select(ticket)
            return
        if self._keep_detail:
            return  # the selected row is leaving the table (its trade closed): the pane stays on it and says so
        self.detail.select(None)
