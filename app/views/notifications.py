"""Which engine events deserve a notification, how serious they are, and how a burst is kept calm.

Independent of the tray: ``notice_for`` decides, ``Throttle`` groups (pure Python, a clock passed in), and
``Notifier`` wires both to the bridge with a Qt timer and emits ``shown`` for whatever displays them (a
tray bubble, or the window's notification strip when there is no tray).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.engine.events import EngineEvent, EventKind
from app.views.bridge import EngineBridge

logger = logging.getLogger(__name__)


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    CRITICAL = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    title: str
    message: str
    severity: Severity = Severity.INFO
    ticket: int | None = None
    grouped: int = 1  # how many events this notice stands for


_PROFIT_ACTIONS = {"BREAKEVEN": "Stop moved to breakeven", "PARTIAL_TAKE": "Partial profit taken",
                   "PARTIAL_CLOSE": "Part of the position closed"}
_STATES = {"WARNING_L2": ("Trade at WARNING_L2", Severity.WARNING), "HEDGED": ("Trade HEDGED", Severity.CRITICAL),
           "CLOSED": ("Trade closed by DTMS", Severity.INFO)}


class NoticePolicy:
    """Turns events into notices; remembers whether the terminal was lost, to announce its return once."""

    def __init__(self) -> None:
        self._lost = False

    def notice_for(self, event: EngineEvent) -> Notice | None:
        p = event.payload
        ticket = p.get("ticket")
        label = f"#{ticket} {p.get('symbol') or ''}".strip() if ticket is not None else ""
        match event.kind:
            case EventKind.TRADE_REGISTERED:
                return Notice(title="Trade registered", ticket=ticket,
                              message=f"{label} {p.get('direction', '')} {p.get('volume', '')} ({p.get('source', '')})")
            case EventKind.ACTION if p.get("outcome") == "FAILED":
                return Notice(title=f"{p.get('kind')} failed", severity=Severity.CRITICAL, ticket=ticket,
                              message=f"{label}: retcode {p.get('retcode')} {p.get('detail') or ''}".strip())
            case EventKind.ACTION if p.get("outcome") == "SUCCESS" and p.get("kind") in _PROFIT_ACTIONS:
                return Notice(title=_PROFIT_ACTIONS[p["kind"]], ticket=ticket, message=f"{label} {p.get('detail') or ''}".strip())
            case EventKind.STATE_CHANGED if p.get("to") in _STATES:
                title, severity = _STATES[p["to"]]
                return Notice(title=title, severity=severity, ticket=ticket,
                              message=f"{label}: {p.get('from')} -> {p.get('to')} ({p.get('reason') or ''})")
            case EventKind.TRADE_CLOSED:
                profit = p.get("profit")
                money = f", profit {profit:,.2f}" if isinstance(profit, (int, float)) else ""
                return Notice(title="Trade closed", ticket=ticket, message=f"{label}: {p.get('reason')}{money}")
            case EventKind.LIFECYCLE:
                return self._lifecycle(p)
            case EventKind.RAIL if p.get("tripped"):
                # a rail that blocks sending (trading refused, broker link lost) is critical: nothing is protected
                severity = Severity.CRITICAL if p.get("critical") else Severity.WARNING
                return Notice(title=f"Safety rail: {p.get('rail')}", severity=severity,
                              message=str(p.get("detail") or ""))
            case EventKind.DATABASE_RECOVERED:
                return Notice(title="Database recovered", severity=Severity.WARNING, message=str(p.get("detail", "")))
        return None

    def _lifecycle(self, p: dict[str, Any]) -> Notice | None:
        state = p.get("state")
        if state == "DISCONNECTED" and not self._lost:
            self._lost = True
            return Notice(title="Terminal lost", severity=Severity.CRITICAL,
                          message=f"reconnecting: {p.get('reason') or 'no answer'}")
        if state == "READY" and self._lost:
            self._lost = False
            return Notice(title="Terminal back", message=f"connected again (connection {p.get('epoch')})")
        if state == "FAILED":
            return Notice(title="Initialisation failed", severity=Severity.CRITICAL, message=str(p.get("reason", "")))
        return None


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
        if len(held) == 1:
            return held[0]
        held.sort(key=lambda n: -n.severity)
        lead = held[0]
        more = len(held) - 1
        return Notice(title=f"{lead.title} and {more} more event{'s' if more > 1 else ''}", message=lead.message,
                      severity=lead.severity, ticket=lead.ticket, grouped=len(held))


class Notifier(QObject):
    """Notices from the bridge, throttled; ``shown`` carries each notice to display."""

    shown = Signal(object)

    def __init__(self, bridge: EngineBridge, *, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._policy = NoticePolicy()
        self._throttle = Throttle(interval_s=interval_s)
        self._clock = clock
        self.history: list[Notice] = []
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
