"""The lifecycle banner at the top of the window: what the engine is doing, why it failed, and Retry."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.engine.model import LifecycleState
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import LIFECYCLE_COLOURS

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
    def __init__(self, bridge: EngineBridge, *, simulated: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lifecycleBanner")
        self._engine = bridge.engine
        self._tasks = TaskKeeper("banner")
        self._payload: dict[str, Any] = {}
        self._deadline: float | None = None
        self.label = QLabel(self)
        self.label.setObjectName("lifecycleText")
        self.label.setWordWrap(True)
        self.simulator = QLabel("SIMULATOR", self)
        self.simulator.setObjectName("simulatorTag")
        self.simulator.setVisible(simulated)
        self.retry = QPushButton("Retry", self)
        self.retry.clicked.connect(self._on_retry)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.simulator)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry)
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._render)
        bridge.lifecycle.connect(self.show_lifecycle)
        # the terminal not answering and a degraded database show beside the lifecycle until they pass
        bridge.terminal_stall.connect(lambda _payload: self._render())
        bridge.database.connect(lambda _payload: self._render())
        snapshot = self._engine.lifecycle
        self.show_lifecycle({"state": snapshot.state.value, "reason": snapshot.reason, "attempt": snapshot.attempt,
                             "attempts": snapshot.attempts, "retry_in": snapshot.retry_in, "epoch": snapshot.epoch})

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
        colour = LIFECYCLE_COLOURS.get(state, "#7f8c8d")
        self.setStyleSheet(f"#lifecycleBanner {{ background: {colour}; }} "
                           "#lifecycleText { color: white; font-weight: bold; }")
        self._render()

    def _render(self) -> None:
        left = None
        if self._deadline is not None:
            left = max(0.0, self._deadline - time.monotonic())
            if left <= 0:
                self._countdown.stop()
        from app.views.tray import trouble_lines

        health = getattr(self._engine, "health", None)
        trouble = trouble_lines(health()) if callable(health) else []
        self.label.setText(" - ".join([describe(self._payload, left), *(line.upper() for line in trouble)]))

    def _on_retry(self) -> None:
        self.retry.setEnabled(False)
        self._tasks.spawn(self._engine.retry_initialize(), "retry-initialize")

    async def close_tasks(self) -> None:
        await self._tasks.cancel_all(timeout=1.0)
