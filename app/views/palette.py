"""Colours shared by the table, the banner and the tray: one meaning, one colour everywhere."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.engine.model import DefensiveState, LifecycleState

STATE_COLOURS: dict[DefensiveState, str] = {
    DefensiveState.HEALTHY: "#2e9e4f",
    DefensiveState.WARNING_L1: "#d9a400",
    DefensiveState.WARNING_L2: "#e06c00",
    DefensiveState.HEDGED: "#c0392b",
    DefensiveState.RECOVERING: "#2c7fb8",
    DefensiveState.CLOSED: "#7f8c8d",
}

LIFECYCLE_COLOURS: dict[LifecycleState, str] = {
    LifecycleState.STARTING: "#7f8c8d",
    LifecycleState.CONNECTING: "#2c7fb8",
    LifecycleState.RECOVERING: "#2c7fb8",
    LifecycleState.READY: "#2e9e4f",
    LifecycleState.DISCONNECTED: "#e06c00",
    LifecycleState.FAILED: "#c0392b",
    LifecycleState.STOPPED: "#7f8c8d",
}

#: How bad a trade state is, for "the worst state" (tray icon colour)
SEVERITY: dict[DefensiveState, int] = {
    DefensiveState.HEALTHY: 0,
    DefensiveState.CLOSED: 0,
    DefensiveState.RECOVERING: 1,
    DefensiveState.WARNING_L1: 2,
    DefensiveState.WARNING_L2: 3,
    DefensiveState.HEDGED: 4,
}


def state_colour(state: DefensiveState) -> QColor:
    return QColor(STATE_COLOURS.get(state, "#7f8c8d"))


def lifecycle_colour(state: LifecycleState) -> QColor:
    return QColor(LIFECYCLE_COLOURS.get(state, "#7f8c8d"))


def worst_state(states: list[DefensiveState]) -> DefensiveState:
    return max(states, key=lambda s: SEVERITY.get(s, 0), default=DefensiveState.HEALTHY)
