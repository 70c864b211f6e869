"""Colours shared by the table, the banner and the tray: one meaning, one colour everywhere.

``STATE_COLOURS`` and ``LIFECYCLE_COLOURS`` fill shapes (tray icon, banner background) and read the same under
either theme. Text drawn in a state's colour on the table's base uses ``state_colour``, which picks the
variant readable on the current theme's base (darker on light, lighter on dark).
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.engine.model import DefensiveState, LifecycleState
from app.views.theme import current

STATE_COLOURS: dict[DefensiveState, str] = {
    DefensiveState.HEALTHY: "#2e9e4f",
    DefensiveState.WARNING_L1: "#d9a400",
    DefensiveState.WARNING_L2: "#e06c00",
    DefensiveState.HEDGED: "#c0392b",
    DefensiveState.RECOVERING: "#2c7fb8",
    DefensiveState.CLOSED: "#7f8c8d",
}

#: state colours as text on a light base (contrast >= 4.5:1 on white) and on the dark theme's base
STATE_TEXT_LIGHT: dict[DefensiveState, str] = {
    DefensiveState.HEALTHY: "#1e7e3a",
    DefensiveState.WARNING_L1: "#8a6800",
    DefensiveState.WARNING_L2: "#b35300",
    DefensiveState.HEDGED: "#b03a2e",
    DefensiveState.RECOVERING: "#1f6fb2",
    DefensiveState.CLOSED: "#5f6b6d",
}
STATE_TEXT_DARK: dict[DefensiveState, str] = {
    DefensiveState.HEALTHY: "#4cc46e",
    DefensiveState.WARNING_L1: "#f0c419",
    DefensiveState.WARNING_L2: "#ff9a45",
    DefensiveState.HEDGED: "#ff6b5b",
    DefensiveState.RECOVERING: "#5aa9e6",
    DefensiveState.CLOSED: "#a0aab0",
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

#: the banner while something needs the trader (paused, a rail tripped, terminal or database trouble)
AMBER = "#f0b000"
AMBER_TEXT = "#1b1b1b"

#: How bad a trade state is, for "the worst state" (tray icon colour)
SEVERITY: dict[DefensiveState, int] = {
    DefensiveState.HEALTHY: 0,
    DefensiveState.CLOSED: 0,
    DefensiveState.RECOVERING: 1,
    DefensiveState.WARNING_L1: 2,
    DefensiveState.WARNING_L2: 3,
    DefensiveState.HEDGED: 4,
}

# QColor objects built once: the table asks for them at every painted cell
_TEXT = {
    dark: {state: QColor(colour) for state, colour in table.items()}
    for dark, table in ((False, STATE_TEXT_LIGHT), (True, STATE_TEXT_DARK))
}
_GREY = QColor("#7f8c8d")


def state_colour(state: DefensiveState) -> QColor:
    """The state's colour for text on the current theme's base."""
    return _TEXT[current().dark].get(state, _GREY)


def money_colour(value: float) -> QColor:
    """Gains and losses in the same colours as HEALTHY and HEDGED."""
    return state_colour(DefensiveState.HEALTHY if value > 0 else DefensiveState.HEDGED)


def lifecycle_colour(state: LifecycleState) -> QColor:
    return QColor(LIFECYCLE_COLOURS.get(state, "#7f8c8d"))


def worst_state(states: list[DefensiveState]) -> DefensiveState:
    return max(states, key=lambda s: SEVERITY.get(s, 0), default=DefensiveState.HEALTHY)
