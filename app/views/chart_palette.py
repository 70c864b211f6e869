"""The trade chart's colours, light and dark, in one place: the chart asks ``chart_colours()`` each time it
draws, so it follows the window's theme (``app.views.theme``)."""

from __future__ import annotations

from dataclasses import dataclass

from app.views.theme import DARK_CHART, LIGHT_CHART, current


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartColours:
    background: str
    foreground: str
    grid_alpha: float
    up: str
    down: str
    bid: str
    ask: str
    entry: str
    sl: str
    tp: str
    trigger: str
    action_ok: str
    action_failed: str
    action_other: str


# background, axes and grid are the theme's (the axes follow the theme even before a trade is drawn)
LIGHT = ChartColours(
    background=LIGHT_CHART.background,
    foreground=LIGHT_CHART.foreground,
    grid_alpha=LIGHT_CHART.grid_alpha,
    up="#2e9e4f",
    down="#c0392b",
    bid="#1f6fb2",
    ask="#8e44ad",
    entry="#2c7fb8",
    sl="#c0392b",
    tp="#2e9e4f",
    trigger="#b8860b",
    action_ok="#1e8449",
    action_failed="#c0392b",
    action_other="#7f8c8d",
)
DARK = ChartColours(
    background=DARK_CHART.background,
    foreground=DARK_CHART.foreground,
    grid_alpha=DARK_CHART.grid_alpha,
    up="#4cd17a",
    down="#ff6b5b",
    bid="#5dade2",
    ask="#c39bd3",
    entry="#5dade2",
    sl="#ff6b5b",
    tp="#4cd17a",
    trigger="#f1c40f",
    action_ok="#58d68d",
    action_failed="#ff6b5b",
    action_other="#aab7b8",
)


def is_dark() -> bool:
    return current().dark


def chart_colours() -> ChartColours:
    return DARK if is_dark() else LIGHT
