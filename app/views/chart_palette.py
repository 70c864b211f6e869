"""The trade chart's colours: the current theme's chart colours (``app.views.theme``), asked for each time the
chart draws, so it follows a theme change."""

from __future__ import annotations

from app.views.theme import DARK_CHART, LIGHT_CHART, ChartColours, current

__all__ = ["DARK", "LIGHT", "ChartColours", "chart_colours", "is_dark"]

LIGHT = LIGHT_CHART
DARK = DARK_CHART


def is_dark() -> bool:
    return current().dark


def chart_colours() -> ChartColours:
    return current().chart
