"""How a burst of notices is kept calm, and the Qt side of notifications.

Independent of the tray: ``NoticePolicy`` (app.alerts.notices) decides and words each notice, ``Throttle``
groups (pure Python, a clock passed in), and ``Notifier`` wires both to the bridge with a Qt timer and emits
``shown`` for whatever displays them (a tray bubble, or the window's notification strip when there is no
tray), then hands each shown notice to the alert outputs (sound, phone push).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from app.alerts.notices import Notice, NoticePolicy, Severity, group
from app.alerts.outputs import AlertOutputs
from app.engine.events import EngineEvent
from app.views.bridge import EngineBridge

__all__ = ["Notice", "NoticePolicy", "Notifier", "Severity", "Throttle"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Throttle:
    """At most one notice per ``interval_s``; what arrives meanwhile is shown as one grouped notice."""

    interval_s: float = 5.0
    last_shown: float | None = None
    pending: list[Notice] = field(default_factory=list)

    def offer(self, notice: Notice, now: float) -> Notice | None:
        """The notice to show now, or None if it was held back for the next group."""
        if not self.pending and (self.last_shown is None or now - self.last_shown >= self.interval_s):
            self.last_shown = now
            return notice
        self.pending.append(notice)
        return None

    def due_at(self) -> float | None:
        if not self.pending:
            return None
        return (self.last_shown or 0.0) + self.interval_s

    def flush(self, now: float) -> Notice | None:
        """The held-back notices as one (the most serious first), if their time has come."""
        due = self.due_at()
        if due is None or now < due:
            return None
        held, self.pending = self.pending, []
        self.last_shown = now
        return group(held)


HISTORY_KEPT = 200


class Notifier(QObject):
    """Notices from the bridge, throttled; ``shown`` carries each notice to display."""

    shown = Signal(object)

    def __init__(
        self,
        bridge: EngineBridge,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        outputs: AlertOutputs | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.outputs = outputs  # sound and phone push of each shown notice
        self._policy = NoticePolicy(bridge.engine.market.digits)
        self._throttle = Throttle(interval_s=interval_s)
        self._clock = clock
        #: the latest notices shown (a desk runs for months: the older ones are in the log file)
        self.history: deque[Notice] = deque(maxlen=HISTORY_KEPT)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        bridge.event.connect(self.on_event)

    def on_event(self, event: EngineEvent) -> None:
        notice = self._policy.notice_for(event)
        if notice is None:
            return
        shown = self._throttle.offer(notice, self._clock())
        if shown is not None:
            self._show(shown)
        elif not self._timer.isActive():
            due = self._throttle.due_at() or self._clock()
            self._timer.start(max(0, int((due - self._clock()) * 1000)) + 1)

    def _flush(self) -> None:
        notice = self._throttle.flush(self._clock())
        if notice is not None:
            self._show(notice)
        elif self._throttle.pending:
            self._timer.start(max(0, int(((self._throttle.due_at() or 0) - self._clock()) * 1000)) + 1)

    def _show(self, notice: Notice) -> None:
        logger.info("notice: %s - %s", notice.title, notice.message)
        self.history.append(notice)
        self.shown.emit(notice)
        if self.outputs is not None:
            try:
                self.outputs.deliver(notice)
            except Exception:  # a sound or a push must never break the window's notifications
                logger.exception("alert output failed for %s", notice.title)
