"""The status banner at the top of the window: what the engine is doing, why it failed, and Retry; and, in
amber, whatever needs the trader (paused management, a tripped safety rail, a terminal that does not answer,
a degraded database), with Pause/Resume and the way to the safety rails' settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.engine.events import EngineEvent, EventKind
from app.engine.model import LifecycleState
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import AMBER, AMBER_TEXT, LIFECYCLE_COLOURS
from app.views.status_lines import Attention, StatusLine, attention_lines

#: events after which the banner reads the engine's health again
#: events that come by the thousand in one cycle (a grid opened or closed at once)
_PER_TRADE_KINDS = {EventKind.TRADE_REGISTERED, EventKind.TRADE_CLOSED, EventKind.TRADE_UNREGISTERED}
_HEALTH_KINDS = {
    EventKind.RAIL,
    EventKind.PAUSED,
    EventKind.DATABASE,
    EventKind.TERMINAL_STALL,
    EventKind.SYMBOL_PROBLEM,
    EventKind.TRADE_REGISTERED,
    EventKind.TRADE_CLOSED,
    EventKind.TRADE_UNREGISTERED,
}

logger = logging.getLogger(__name__)


def describe(payload: dict[str, Any], retry_left: float | None = None) -> str:
    """The banner's sentence for one lifecycle payload; ``retry_left`` overrides the payload's countdown."""
    state = LifecycleState(payload.get("state", "STARTING"))
    reason = payload.get("reason") or ""
    attempt, attempts = payload.get("attempt") or 0, payload.get("attempts") or 0
    wait = retry_left if retry_left is not None else payload.get("retry_in")
    match state:
        case LifecycleState.CONNECTING:
            text = f"CONNECTING to the terminal (attempt {attempt} of {attempts})" if attempts else "CONNECTING"
            if wait:
                text += f"; next attempt in {wait:.0f} s"
            return text + (f" - {reason}" if reason else "")
        case LifecycleState.RECOVERING:
            return "RECOVERING: loading trades and reconciling them with the terminal"
        case LifecycleState.READY:
            return f"READY - monitoring (connection {payload.get('epoch') or 0})"
        case LifecycleState.DISCONNECTED:
            text = "DISCONNECTED: terminal lost"
            text += f"; reconnecting in {wait:.0f} s" if wait else "; reconnecting"
            return text + (f" - {reason}" if reason else "")
        case LifecycleState.FAILED:
            return f"FAILED: {reason or 'initialisation failed'}"
        case LifecycleState.STOPPED:
            return "STOPPED"
        case _:
            return "STARTING"


class LifecycleBanner(QFrame):
    """``open_rails`` opens the safety rails' settings (the banner's way out of a tripped rail)."""

    def __init__(
        self,
        bridge: EngineBridge,
        *,
        simulated: bool,
        open_rails: Callable[[], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lifecycleBanner")
        self._engine = bridge.engine
        self._tasks = TaskKeeper("banner")
        self._payload: dict[str, Any] = {}
        self._deadline: float | None = None
        self.lines: list[StatusLine] = []
        self.colour = ""
        self.label = QLabel(self)
        self.label.setObjectName("lifecycleText")
        self.label.setWordWrap(True)
        self.simulator = QLabel("SIMULATOR", self)
        self.simulator.setObjectName("simulatorTag")
        self.simulator.setVisible(simulated)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Pause: DTMS stops changing trades (prices and reconciliation go on)")
        self.pause_button.clicked.connect(self._on_pause)
        self.rails_button = QPushButton("Safety rails...", self)
        self.rails_button.setToolTip("The loss limits, spread, stale-price and blackout settings")
        self.rails_button.setVisible(False)
        if open_rails is not None:
            self.rails_button.clicked.connect(lambda: open_rails())
        self._has_rails_page = open_rails is not None
        self.retry = QPushButton("Retry", self)
        self.retry.clicked.connect(self._on_retry)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.simulator)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.rails_button)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.retry)
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._render)
        # a stalled terminal's seconds grow without events
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(1000)
        self._health_timer.timeout.connect(self.refresh_health)
        self._health_timer.start()
        self._health_soon = QTimer(self)
        self._health_soon.setSingleShot(True)
        self._health_soon.setInterval(0)
        self._health_soon.timeout.connect(self.refresh_health)
        bridge.lifecycle.connect(self.show_lifecycle)
        bridge.event.connect(self._on_event)
        snapshot = self._engine.lifecycle
        self.show_lifecycle(
            {
                "state": snapshot.state.value,
                "reason": snapshot.reason,
                "attempt": snapshot.attempt,
                "attempts": snapshot.attempts,
                "retry_in": snapshot.retry_in,
                "epoch": snapshot.epoch,
            }
        )

    @property
    def state(self) -> LifecycleState:
        return LifecycleState(self._payload["state"])

    def text(self) -> str:
        return self.label.text()

    def show_lifecycle(self, payload: dict[str, Any]) -> None:
        self._payload = dict(payload)
        retry_in = payload.get("retry_in")
        self._deadline = time.monotonic() + retry_in if retry_in else None
        if self._deadline is not None:
            self._countdown.start()
        else:
            self._countdown.stop()
        state = self.state
        self.retry.setVisible(state in (LifecycleState.FAILED, LifecycleState.STOPPED))
        self.retry.setEnabled(True)
        self.refresh_health()
        self._render()

    def refresh_health(self) -> None:
        """Read the engine's health: the amber lines, the colour and the buttons."""
        self.show_health(self._engine.health())

    def show_health(self, health: Any) -> None:
        lines = attention_lines(health, len(self._engine.trades()))
        paused = bool(getattr(health, "paused", False))
        self.pause_button.setText("Resume" if paused else "Pause")
        self.rails_button.setVisible(self._has_rails_page and any(line.kind is Attention.RAIL for line in lines))
        state = self.state
        if lines and state is LifecycleState.READY:
            colour, text = AMBER, AMBER_TEXT
        else:
            colour, text = LIFECYCLE_COLOURS.get(state, "#7f8c8d"), "white"
        if (colour, lines) != (self.colour, self.lines):
            self.lines = lines
            if colour != self.colour:
                self.colour = colour
                self.setStyleSheet(
                    f"#lifecycleBanner {{ background: {colour}; }} "
                    f"#lifecycleText {{ color: {text}; font-weight: bold; }}"
                )
            self._render()

    @property
    def amber(self) -> bool:
        return self.colour == AMBER

    def _on_event(self, event: EngineEvent) -> None:
        if event.kind in _PER_TRADE_KINDS:
            self._health_soon.start()  # a burst (1,000 trades closing in one cycle) reads the health once
        elif event.kind in _HEALTH_KINDS:
            self.refresh_health()

    def _on_pause(self) -> None:
        self._engine.pause(not self._engine.paused)
        self.refresh_health()

    def _render(self) -> None:
        left = None
        if self._deadline is not None:
            left = max(0.0, self._deadline - time.monotonic())
            if left <= 0:
                self._countdown.stop()
        text = describe(self._payload, left)
        if self.lines and self.state is LifecycleState.READY:  # what needs the trader first, then the state
            text = text.replace("READY - monitoring", "READY", 1)
            self.label.setText("\n".join([*(line.text for line in self.lines), text]))
            return
        self.label.setText("\n".join([text, *(line.text for line in self.lines)]))

    def _on_retry(self) -> None:
        self.retry.setEnabled(False)
        self._tasks.spawn(self._engine.retry_initialize(), "retry-initialize")

    async def close_tasks(self) -> None:
        self._health_timer.stop()
        await self._tasks.cancel_all(timeout=1.0)
