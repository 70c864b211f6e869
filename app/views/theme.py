"""The window's theme: light, dark or the system's, applied to the whole application, with the colours views
draw with themselves (the chart, the state colours) and a signal when it changes.

``themes()`` is the one manager of the process. Views read ``current()`` when they draw and connect to
``themes().changed`` to redraw; nothing else keeps a colour of its own that could disagree with the palette.
The style sheet (resources/style.qss) names palette roles only (``palette(button)``), so it follows too.

Explicit light and dark use the Fusion style, whose controls take the palette everywhere; the system's
theme keeps the platform's style and palette and follows the platform when it switches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

logger = logging.getLogger(__name__)


class ThemeChoice(StrEnum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartColours:
    """What a price chart draws with, readable on ``background``."""

    background: str
    foreground: str  # axes, labels
    grid_alpha: float
    price: str  # closes, candle outlines
    up: str  # rising candle
    down: str  # falling candle
    bid: str
    ask: str
    entry: str
    sl: str
    tp: str
    trigger: str
    marker: str
    action_ok: str  # a journal entry that succeeded
    action_failed: str
    action_other: str  # not sent, settled, unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class Theme:
    name: str
    dark: bool
    chart: ChartColours
    #: text on the base colour: money and R gained or lost
    positive: str
    negative: str
    muted: str


LIGHT_CHART = ChartColours(
    background="#ffffff",
    foreground="#2c3e50",
    grid_alpha=0.2,
    price="#34495e",
    up="#2e9e4f",
    down="#c0392b",
    bid="#1f6fb2",
    ask="#8e44ad",
    entry="#2c7fb8",
    sl="#c0392b",
    tp="#2e9e4f",
    trigger="#a87f00",
    marker="#6c3483",
    action_ok="#1e8449",
    action_failed="#c0392b",
    action_other="#7f8c8d",
)
DARK_CHART = ChartColours(
    background="#1f2124",
    foreground="#d5d8dc",
    grid_alpha=0.25,
    price="#aeb6bf",
    up="#4cc46e",
    down="#ff6b5b",
    bid="#5aa9e6",
    ask="#c39bd3",
    entry="#5aa9e6",
    sl="#ff6b5b",
    tp="#4cc46e",
    trigger="#f0c419",
    marker="#d2b4de",
    action_ok="#58d68d",
    action_failed="#ff6b5b",
    action_other="#aab7b8",
)
LIGHT = Theme(name="light", dark=False, chart=LIGHT_CHART, positive="#1e7e3a", negative="#b03a2e", muted="#6c7a89")
DARK = Theme(name="dark", dark=True, chart=DARK_CHART, positive="#4cc46e", negative="#ff6b5b", muted="#a0aab0")


def dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2d30",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1f2124",
        QPalette.ColorRole.AlternateBase: "#27292d",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#35383c",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f4f6f",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#35383c",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8f94",
        QPalette.ColorRole.Link: "#5aa9e6",
        QPalette.ColorRole.Light: "#45494e",
        QPalette.ColorRole.Midlight: "#3b3e42",
        QPalette.ColorRole.Mid: "#4a4e53",
        QPalette.ColorRole.Dark: "#18191b",
        QPalette.ColorRole.Shadow: "#0d0d0e",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7f85"))
    return p


def light_palette(style_palette: QPalette) -> QPalette:
    """Fusion's light palette with a selection pale enough for coloured text (states, profit) to stay readable."""
    p = QPalette(style_palette)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#cfe3f5"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#1b2631"))
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#f4f6f8"))
    return p


def palette_is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class ThemeManager(QObject):
    """Applies a ``ThemeChoice`` to the application and says when the effective theme changed."""

    changed = Signal(object)  # the new Theme

    def __init__(self) -> None:
        super().__init__()
        self.choice = ThemeChoice.SYSTEM
        self.current: Theme = LIGHT
        self._system: tuple[str, QPalette] | None = None  # the platform's style and palette, kept at first apply
        self._hinted = False
        self._applied: QApplication | None = None

    def apply(self, choice: ThemeChoice | str) -> Theme:
        """Switch the application (if there is one) to ``choice``; returns the effective theme."""
        choice = ThemeChoice(choice)
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            self.choice = choice
            return self._set(DARK if choice is ThemeChoice.DARK else LIGHT)
        if choice is self.choice and self._applied is app:
            return self.current  # nothing to change (restyling every widget is not free)
        self.choice = choice
        self._applied = app
        if self._system is None:
            self._system = (app.style().name(), QPalette(app.palette()))
        if not self._hinted:
            self._hinted = True
            hints = QGuiApplication.styleHints()
            if hasattr(hints, "colorSchemeChanged"):
                hints.colorSchemeChanged.connect(self._on_system_scheme)
        if self.choice is ThemeChoice.SYSTEM:
            style, palette = self._system
            if app.style().name() != style:
                app.setStyle(QStyleFactory.create(style) or style)
            app.setPalette(palette)
            theme = DARK if self._system_is_dark(palette) else LIGHT
        else:
            if app.style().name().lower() != "fusion":
                app.setStyle(QStyleFactory.create("Fusion"))
            fusion = app.style()
            if self.choice is ThemeChoice.DARK:
                app.setPalette(dark_palette())
                theme = DARK
            else:
                app.setPalette(light_palette(fusion.standardPalette()))
                theme = LIGHT
        if app.styleSheet():
            app.setStyleSheet(app.styleSheet())  # the sheet's palette() references are resolved again
        return self._set(theme)

    def _set(self, theme: Theme) -> Theme:
        previous, self.current = self.current, theme
        if theme is not previous:
            logger.info("theme: %s", theme.name)
            self.changed.emit(theme)
        return theme

    @staticmethod
    def _system_is_dark(palette: QPalette) -> bool:
        hints = QGuiApplication.styleHints()
        scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
        if scheme is Qt.ColorScheme.Unknown:
            return palette_is_dark(palette)
        return scheme is Qt.ColorScheme.Dark

    def _on_system_scheme(self, _scheme: object) -> None:
        if self.choice is ThemeChoice.SYSTEM:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                self._system = (self._system or (app.style().name(), app.palette()))[0], QPalette(app.palette())
            self._applied = None
            self.apply(ThemeChoice.SYSTEM)


_manager: ThemeManager | None = None


def themes() -> ThemeManager:
    """The process's theme manager (created on first use)."""
    global _manager
    if _manager is None:
        _manager = ThemeManager()
    return _manager


def current() -> Theme:
    """The effective theme now (light until one is applied)."""
    return themes().current


def style_plot(plot: object, theme: Theme | None = None) -> None:
    """Give a pyqtgraph PlotWidget the theme's background and axis colours."""
    colours = (theme or current()).chart
    plot.setBackground(colours.background)  # type: ignore[attr-defined]
    item = plot.getPlotItem()  # type: ignore[attr-defined]
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(colours.foreground)
        axis.setTextPen(colours.foreground)


class _PlotFollower(QObject):
    """A child of the plot, so the connection ends when the plot is deleted."""

    def __init__(self, plot: QObject) -> None:
        super().__init__(plot)
        self._plot = plot
        themes().changed.connect(self.restyle)

    def restyle(self, theme: Theme) -> None:
        if self._plot.getPlotItem() is not None:  # type: ignore[attr-defined]  # None once the plot is closed
            style_plot(self._plot, theme)


def follow_theme(plot: QObject) -> None:
    """Style ``plot`` now and again at every theme change."""
    style_plot(plot)
    _PlotFollower(plot)
