"""The event log panel: engine events and log records (through a logging handler) in one scrolling list."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.engine.events import EngineEvent, EventKind
from app.views.bridge import EngineBridge

logger = logging.getLogger(__name__)

MAX_LINES = 2000
#: live updates, too frequent for a log
_QUIET = {EventKind.TRADE_UPDATED, EventKind.CYCLE}


class _Relay(QObject):
    line = Signal(str)


class PanelLogHandler(logging.Handler):
    """Sends formatted records to the panel; records from other threads are queued by Qt to the GUI thread."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.relay = _Relay()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.relay.line.emit(self.format(record))
        except RuntimeError:  # the panel is gone (shutdown)
            pass


class EventLogPanel(QPlainTextEdit):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.handler = PanelLogHandler()
        self.handler.relay.line.connect(self.appendPlainText)
        bridge.event.connect(self.on_event)

    def on_event(self, event: EngineEvent) -> None:
        if event.kind in _QUIET:
            return
        stamp = datetime.fromtimestamp(event.wall_at).strftime("%H:%M:%S")
        details = ", ".join(f"{k}={v}" for k, v in event.payload.items() if v not in (None, ""))
        self.appendPlainText(f"{stamp} event {event.kind.value}: {details}")

    def attach(self, target: logging.Logger | None = None) -> None:
        (target or logging.getLogger()).addHandler(self.handler)

    def detach(self, target: logging.Logger | None = None) -> None:
        (target or logging.getLogger()).removeHandler(self.handler)
