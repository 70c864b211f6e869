"""The tray icon (or, where no tray exists, a notification strip in the window).

Its colour follows the lifecycle, and once READY the worst state among the managed trades; its tooltip
counts the trades; its menu offers Show, Pause management and Quit. Icons are drawn, no image files.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Callable
from operator import attrgetter

from PySide6.QtCore import QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QSystemTrayIcon, QToolButton, QWidget

from app.engine.model import DefensiveState, LifecycleState
from app.views.bridge import EngineBridge
from app.views.notifications import Notice, Notifier, Severity
from app.views.palette import LIFECYCLE_COLOURS, STATE_COLOURS, worst_state

logger = logging.getLogger(__name__)

STRIP_SECONDS = 10
_STATE = attrgetter("state")
_TICKET = attrgetter("ticket")
#: lines of a grouped notice the strip shows (a mass close groups hundreds: the rest are in the Log tab)
STRIP_LINES = 6
_SEVERITY_COLOURS = {Severity.INFO: "#2c7fb8", Severity.WARNING: "#e06c00", Severity.CRITICAL: "#c0392b"}


#: Tray icon sizes: Windows picks 16 px at 100 %, 20 at 125 %, 24 at 150 %, 32 at 200 % display scaling; 64 for
#: the rest (menus, task switcher, notifications).
ICON_SIZES = (16, 20, 24, 32, 64)


def draw_icon(colour: QColor | str, size: int | None = None) -> QIcon:
    """A filled disc with a white shield mark, in ``colour``: drawn at each of ICON_SIZES (or at ``size``), so
    the tray never shows a 64 px drawing scaled down to a blur."""
    icon = QIcon()
    for each in (size,) if size else ICON_SIZES:
        icon.addPixmap(_draw_pixmap(colour, each))
    return icon


def _draw_pixmap(colour: QColor | str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.setBrush(QColor("white"))
    s = size / 64
    shield = QPolygonF(
        [
            QPointF(32 * s, 14 * s),
            QPointF(47 * s, 20 * s),
            QPointF(45 * s, 36 * s),
            QPointF(32 * s, 50 * s),
            QPointF(19 * s, 36 * s),
            QPointF(17 * s, 20 * s),
        ]
    )
    painter.drawPolygon(shield)
    painter.end()
    return pixmap


def trouble_lines(health: object) -> list[str]:
    """A terminal that does not answer and a degraded database, in the trader's words."""
    lines = []
    stall = getattr(health, "terminal_stall_s", None)
    if stall is not None:
        lines.append(f"terminal not answering ({stall:.0f} s)")
    problem = getattr(health, "database_problem", "")
    if problem:
        lines.append(f"database degraded: {problem}")
    return lines


class StatusSummary:
    """The colour and tooltip of the program's status, from the engine's lifecycle and trades.

    The states are counted over every trade once, then kept from the trades that events named (``touched``):
    at 10,000 trades a count over all of them took about a millisecond, and some trade changes state in almost
    every cycle. A count that no longer adds up to the trades managed is taken again whole."""

    def __init__(self, engine: object) -> None:
        self._engine = engine
        self._state_of: dict[int, DefensiveState] = {}
        self._counts: Counter[DefensiveState] = Counter()
        self._named: set[int] = set()
        self._whole = True  # count every trade at the next read

    def touched(self, ticket: object) -> None:
        """A trade that was registered, changed state, closed or stopped being managed."""
        if isinstance(ticket, int):
            self._named.add(ticket)
        else:
            self._whole = True

    def recount(self) -> None:
        """Count every trade at the next read (the trades were loaded again, or changed without an event)."""
        self._whole = True

    def states(self) -> Counter[DefensiveState]:
        """How many trades are in each state."""
        engine = self._engine
        named, self._named = self._named, set()
        if not self._whole:
            state_of, counts = self._state_of, self._counts
            for ticket in named:
                old = state_of.pop(ticket, None)
                if old is not None:
                    counts[old] -= 1
                trade = engine.trade(ticket)  # type: ignore[attr-defined]
                if trade is not None:
                    state_of[ticket] = trade.state
                    counts[trade.state] += 1
            self._whole = len(state_of) != engine.trade_count()  # type: ignore[attr-defined]
        if self._whole:
            self._whole = False
            trades = engine.trades()  # type: ignore[attr-defined]
            self._state_of = dict(zip(map(_TICKET, trades), map(_STATE, trades), strict=True))
            self._counts = Counter(self._state_of.values())  # counted in C
        return +self._counts  # without the states no trade is in

    def colour(self, counts: Counter[DefensiveState] | None = None) -> str:
        """``counts``: the states as ``states()`` counted them, when the caller has them already."""
        lifecycle = self._engine.state  # type: ignore[attr-defined]
        if lifecycle is not LifecycleState.READY:
            return LIFECYCLE_COLOURS[lifecycle]
        return STATE_COLOURS[worst_state(list(self.states() if counts is None else counts))]

    def tooltip(self, counts: Counter[DefensiveState] | None = None) -> str:
        engine = self._engine
        counts = self.states() if counts is None else counts
        lines = [f"DTMS Desk - {engine.state.value}", f"{counts.total()} managed trades"]  # type: ignore[attr-defined]
        lines += [f"  {state}: {n}" for state, n in sorted((s.value, n) for s, n in counts.items())]
        if engine.paused:  # type: ignore[attr-defined]
            lines.append("management paused")
        health = getattr(engine, "health", None)
        lines += trouble_lines(health()) if callable(health) else []
        return "\n".join(lines)


class NotificationStrip(QFrame):
    """In-window notices (all of them without a tray, critical ones always): each stays ``STRIP_SECONDS``, a
    critical one until closed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationStrip")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        close = QToolButton(self)
        close.setText("x")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        lines = notice.message.split("\n")  # a grouped notice: one line per trade
        if len(lines) > STRIP_LINES:
            hidden = len(lines) - STRIP_LINES + 1
            lines = [*lines[: STRIP_LINES - 1], f"... and {hidden} more (the Event log tab lists them all)"]
        message = "<br>".join(html.escape(line) for line in lines)
        self.label.setText(f"<b>{html.escape(notice.title)}</b> &nbsp; {message}")
        self.setStyleSheet(
            f"#notificationStrip {{ background: {_SEVERITY_COLOURS[notice.severity]}; }}"
            " #notificationStrip QLabel { color: white; }"
        )
        self.show()
        if notice.severity is Severity.CRITICAL:
            self._timer.stop()  # stays until the trader closes it
        else:
            self._timer.start(STRIP_SECONDS * 1000)


class TrayController(QObject):
    """Owns the tray icon when the system has a tray; otherwise notices go to ``strip``."""

    def __init__(
        self,
        bridge: EngineBridge,
        notifier: Notifier,
        *,
        show_window: Callable[[], None],
        quit_program: Callable[[], object],
        strip: NotificationStrip,
        tray_available: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._summary = StatusSummary(self._engine)
        self.strip = strip
        self.last_hint: tuple[str, str] | None = None
        available = QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else tray_available
        self.tray: QSystemTrayIcon | None = None
        self.menu = QMenu()
        self.show_action = QAction("Show", self.menu)
        self.show_action.triggered.connect(show_window)
        self.pause_action = QAction("Pause management", self.menu)
        self.pause_action.setCheckable(True)
        self.pause_action.setChecked(self._engine.paused)
        self.pause_action.toggled.connect(self._engine.pause)
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.triggered.connect(quit_program)
        for action in (self.show_action, self.pause_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self._colour = self._summary.colour()
        self._icons = {self._colour: draw_icon(self._colour)}
        self.icon = self._icons[self._colour]
        if available:
            self.tray = QSystemTrayIcon(self.icon, self)
            self.tray.setContextMenu(self.menu)
            self.tray.activated.connect(
                lambda reason: show_window() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
            )
            self.tray.show()
        notifier.shown.connect(self.show_notice)
        # colour and tooltip read every trade: a burst of events (a mass close of 1,000 trades) redraws once
        self._refresh_later = QTimer(self)
        self._refresh_later.setSingleShot(True)
        self._refresh_later.setInterval(0)
        self._refresh_later.timeout.connect(self._show)
        for signal in (bridge.state_changed, bridge.trade_registered, bridge.trade_closed, bridge.trade_unregistered):
            signal.connect(self._trade_event)
        for signal in (bridge.lifecycle, bridge.database_recovered):
            signal.connect(self._trades_loaded)
        for signal in (bridge.paused, bridge.terminal_stall, bridge.database):
            signal.connect(lambda *_: self._refresh_later.start())
        bridge.paused.connect(self._sync_pause)
        self.refresh()

    @property
    def has_tray(self) -> bool:
        return self.tray is not None

    def colour(self) -> str:
        return self._summary.colour()

    def tooltip(self) -> str:
        return self._summary.tooltip()

    def _trade_event(self, payload: object) -> None:
        self._summary.touched(payload.get("ticket") if isinstance(payload, dict) else None)
        self._refresh_later.start()

    def _trades_loaded(self, *_: object) -> None:
        self._summary.recount()
        self._refresh_later.start()

    def refresh(self) -> None:
        """Colour and tooltip again, every trade's state counted anew."""
        self._summary.recount()
        self._show()

    def _show(self) -> None:
        """Colour and tooltip; the icon is drawn once per colour and set only when its colour changed (a cycle's
        state changes at 10,000 trades would draw five pixmaps each time)."""
        counts = self._summary.states()
        colour = self._summary.colour(counts)
        if colour != self._colour:
            self._colour = colour
            icon = self._icons.get(colour)
            if icon is None:
                icon = self._icons[colour] = draw_icon(colour)
            self.icon = icon
            if self.tray is not None:
                self.tray.setIcon(icon)
        if self.tray is not None:
            self.tray.setToolTip(self._summary.tooltip(counts))

    def show_notice(self, notice: Notice) -> None:
        if self.tray is not None:
            icon = {
                Severity.INFO: QSystemTrayIcon.MessageIcon.Information,
                Severity.WARNING: QSystemTrayIcon.MessageIcon.Warning,
                Severity.CRITICAL: QSystemTrayIcon.MessageIcon.Critical,
            }[notice.severity]
            self.tray.showMessage(notice.title, notice.message, icon, 8000)
        # Windows drops tray messages under Focus Assist or when the sender's notifications are off, and Qt's
        # documentation says they must not be the only channel for critical information: those go to the strip too
        if self.tray is None or notice.severity is Severity.CRITICAL:
            self.strip.show_notice(notice)

    def hint(self, title: str, message: str) -> None:
        """A one-off information balloon from the tray (kept in ``last_hint``)."""
        self.last_hint = (title, message)
        if self.tray is not None:
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()

    def _sync_pause(self, paused: bool) -> None:
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)
