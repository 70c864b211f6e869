"""The event log panel: engine events and log records (through a logging handler) in one scrolling list,
stamped in terminal (server) time like the journal, and filtered by severity.

Events carry their terminal time; a log record is stamped with the engine clock's time when it arrives
(records reach the panel as they are written). Every line is kept (up to ``MAX_LINES``) with its severity,
so changing the filter shows the earlier lines again.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.engine.events import EngineEvent, EventKind
from app.views.bridge import EngineBridge
from app.views.trades_model import terminal_time_text

logger = logging.getLogger(__name__)

MAX_LINES = 2000
#: live updates, too frequent for a log
_QUIET = {EventKind.TRADE_UPDATED, EventKind.CYCLE}
#: the filter's choices: (label, lowest level shown)
FILTERS = (("Everything", logging.INFO), ("Warnings and errors", logging.WARNING), ("Errors only", logging.ERROR))


def _value(value: object) -> str:
    """A payload value as a trader reads it: a float without the noise of its binary form (1.55, not
    1.5500000000000005), every digit a price or an amount has kept."""
    return f"{value:z.10g}" if isinstance(value, float) else str(value)


def event_level(event: EngineEvent) -> int:
    """How serious an engine event is, on the logging scale."""
    payload = event.payload
    match event.kind:
        case EventKind.ACTION:
            outcome = payload.get("outcome")
            return (
                logging.ERROR
                if outcome == "FAILED"
                else logging.WARNING
                if outcome in ("UNKNOWN", "RETRYING")
                else logging.INFO
            )
        case EventKind.LIFECYCLE:
            state = payload.get("state")
            return logging.ERROR if state == "FAILED" else logging.WARNING if state == "DISCONNECTED" else logging.INFO
        case EventKind.RAIL | EventKind.SYMBOL_PROBLEM:
            return logging.WARNING if payload.get("tripped") or payload.get("failing") else logging.INFO
        case EventKind.TERMINAL_STALL:
            return logging.WARNING if payload.get("stalled") else logging.INFO
        case EventKind.DATABASE:
            return logging.ERROR if payload.get("degraded") else logging.INFO
        case EventKind.STATE_CHANGED:
            return logging.WARNING if payload.get("to") in ("WARNING_L2", "HEDGED") else logging.INFO
        case _:
            return logging.INFO


class _Relay(QObject):
    line = Signal(int, str)


class PanelLogHandler(logging.Handler):
    """Sends records (level, text) to the panel; records from other threads are queued by Qt to the GUI thread."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.relay = _Relay()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.relay.line.emit(record.levelno, self.format(record))
        except RuntimeError:  # the panel is gone (shutdown)
            pass


class EventLogPanel(QPlainTextEdit):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self._clock: Any = getattr(bridge.engine, "clock", None)
        self._lines: deque[tuple[int, str]] = deque(maxlen=MAX_LINES)
        self._pending: list[str] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self.flush)
        self.minimum = logging.INFO
        self.handler = PanelLogHandler()
        self.handler.relay.line.connect(self.add_line)
        bridge.event.connect(self.on_event)

    def on_event(self, event: EngineEvent) -> None:
        if event.kind in _QUIET:
            return
        level = event_level(event)
        details = ", ".join(f"{k}={_value(v)}" for k, v in event.payload.items() if v not in (None, ""))
        self.add_line(level, f"{logging.getLevelName(level)} event {event.kind.value}: {details}", event.at)

    def add_line(self, level: int, text: str, at: float | None = None) -> None:
        """Keep a line stamped in terminal time (``at``, else the engine clock's now) and show it if it passes
        the filter."""
        stamp = terminal_time_text(at or self._now()) or "--:--:--"
        line = f"{stamp} {text}"
        self._lines.append((level, line))
        if level >= self.minimum:
            self._pending.append(line)
            self._flush.start()

    def flush(self) -> None:
        """Show the lines added since the last flush, in one append (laying out the text once per burst: a
        thousand trades closing in one cycle took 200 ms appended one by one)."""
        if self._pending:
            self.appendPlainText("\n".join(self._pending))
            self._pending.clear()

    def set_minimum(self, level: int) -> None:
        """Show only lines at ``level`` or above (earlier lines included)."""
        self.minimum = level
        self._pending.clear()
        self.setPlainText("\n".join(line for lvl, line in self._lines if lvl >= level))
        self.moveCursor(self.textCursor().MoveOperation.End)

    def _now(self) -> float:
        return float(self._clock.now()) if self._clock is not None else 0.0

    def attach(self, target: logging.Logger | None = None) -> None:
        (target or logging.getLogger()).addHandler(self.handler)

    def detach(self, target: logging.Logger | None = None) -> None:
        (target or logging.getLogger()).removeHandler(self.handler)


class EventLogPage(QWidget):
    """The log with its severity filter above it."""

    def __init__(self, panel: EventLogPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.filter = QComboBox()
        for label, level in FILTERS:
            self.filter.addItem(label, level)
        self.filter.currentIndexChanged.connect(lambda _i: panel.set_minimum(int(self.filter.currentData())))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter)
        bar.addWidget(QLabel("(times are terminal time)"))
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(panel, 1)
