"""The trade chart's level labels: tags at the right edge past the last candle, each on its price, pushed
apart where levels lie close (entry, bid and ask at the open), on the chart's background in both themes, and
the bid and ask tags follow the live price; a stack of tags at the bottom of the chart is pushed back up into it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.engine.model import Direction, Trade
from app.views.price_tags import place
from app.views.theme import DARK_CHART, LIGHT_CHART, ThemeChoice, themes
from app.views.trade_chart import TradeChart

M5 = 300.0
T0 = 1_772_600_000.0
BARS = 60
OPENED = T0 + 40 * M5
NOW = T0 + (BARS - 1) * M5
ENTRY, SL, TP, R = 1.08500, 1.08300, 1.08900, 0.00200


def bars() -> np.ndarray:
    close = ENTRY + 0.0003 * np.sin(np.arange(BARS) / 5)
    out = np.zeros(BARS, dtype=[("time", "i8"), ("open", "f8"), ("high", "f8"), ("low", "f8"), ("close", "f8")])
    out["time"] = T0 + M5 * np.arange(BARS)
    out["open"], out["close"] = close, close + 0.0001
    out["high"], out["low"] = close + 0.0003, close - 0.0002
    return out


def drawn(qtbot, bid: float = 1.08502, ask: float = 1.08510) -> TradeChart:
    """A BUY just opened: entry, bid and ask a pip apart, the breakeven trigger 1 R above, SL and TP set."""
    chart = TradeChart()
    qtbot.addWidget(chart)
    chart.resize(600, 400)
    chart.show()
    qtbot.waitExposed(chart)
    trade = Trade(
        ticket=1, symbol="EURUSD", direction=Direction.BUY, entry=ENTRY, volume=1.0, sl=SL, tp=TP, r=R, opened_at=OPENED
    )
    chart.show_trade(
        trade,
        bars(),
        seconds=M5,
        breakeven_r=1.0,
        rows=[],
        sl_steps=[(OPENED, SL), (NOW, SL)],
        tp_steps=[(OPENED, TP), (NOW, TP)],
        bid=bid,
        ask=ask,
        digits=5,
    )
    return chart


def test_level_tags_sit_at_the_right_edge_past_the_candles(qtbot) -> None:
    chart = drawn(qtbot)
    assert sorted(chart.tags.names()) == ["BE trigger", "SL", "TP", "ask", "bid", "entry"]
    assert chart.tags.text("entry") == "entry 1.08500" and chart.tags.text("BE trigger") == "BE trigger 1.08700"
    (x0, x1), (y0, y1) = chart.getViewBox().viewRange()
    pixel = (y1 - y0) / chart.getViewBox().height()
    x_pixel = (x1 - x0) / chart.getViewBox().width()
    last_candle = NOW + 0.35 * M5
    for name in chart.tags.names():
        box = chart.tags.box(name)
        assert box.left() > last_candle, f"{name} covers no candle"
        assert box.right() < x1, f"{name} is inside the plot"
        assert x1 - box.right() < 5 * x_pixel, f"{name} is at the right edge"
    for name, price in (("SL", SL), ("TP", TP), ("BE trigger", ENTRY + R), ("ask", 1.08510)):
        assert chart.tags.box(name).center().y() == pytest.approx(price, abs=pixel), f"{name} on its price"


def test_tags_of_close_levels_do_not_cover_each_other(qtbot) -> None:
    chart = drawn(qtbot)
    for a, b in itertools.combinations(chart.tags.names(), 2):
        one, other = chart.tags.box(a), chart.tags.box(b)
        assert one.bottom() <= other.top() or other.bottom() <= one.top(), f"{a} and {b} overlap"
    chart.update_price(1.08600, 1.08608)
    assert chart.tags.text("bid") == "bid 1.08600"
    assert chart.tags.box("bid").top() < 1.08600 < chart.tags.box("ask").bottom()
    for a, b in itertools.combinations(chart.tags.names(), 2):
        one, other = chart.tags.box(a), chart.tags.box(b)
        assert one.bottom() <= other.top() or other.bottom() <= one.top(), f"{a} and {b} overlap after a tick"


@pytest.mark.parametrize(("choice", "colours"), [(ThemeChoice.LIGHT, LIGHT_CHART), (ThemeChoice.DARK, DARK_CHART)])
def test_tags_are_drawn_on_the_charts_background_in_the_levels_colour(qtbot, choice, colours) -> None:
    try:
        themes().apply(choice)
        chart = drawn(qtbot)
        assert chart.tags.style("entry") == (colours.entry, colours.background)
        assert chart.tags.style("SL") == (colours.sl, colours.background)
        assert chart.tags.style("bid") == (colours.bid, colours.background)
    finally:
        themes().apply(ThemeChoice.LIGHT)


def test_tags_stacked_at_the_bottom_of_the_chart_stay_inside_it(qtbot) -> None:
    """The price fell to the SL, the lowest level: SL, bid and ask lie a pixel apart at the bottom of the
    range. Pushed apart downwards only, bid and ask would leave the chart; they are pushed back up."""
    chart = drawn(qtbot, bid=SL + 0.00001, ask=SL + 0.00003)
    (_x0, _x1), (y0, y1) = chart.getViewBox().viewRange()
    for name in chart.tags.names():
        box = chart.tags.box(name)
        assert y0 <= box.top() and box.bottom() <= y1, f"{name} is inside the chart"
    for a, b in itertools.combinations(chart.tags.names(), 2):
        one, other = chart.tags.box(a), chart.tags.box(b)
        assert one.bottom() <= other.top() or other.bottom() <= one.top(), f"{a} and {b} overlap"
    assert chart.tags.box("SL").top() < chart.tags.box("bid").top() < chart.tags.box("ask").top(), "in price order"


@pytest.mark.parametrize(
    ("wanted", "bottom", "placed"),
    [
        ([10.0, 50.0, 90.0], 200.0, [10.0, 50.0, 90.0]),  # apart already: each on its price
        ([10.0, 12.0, 14.0], 200.0, [10.0, 31.0, 52.0]),  # pushed down from the top one
        ([180.0, 182.0, 184.0], 200.0, [148.0, 169.0, 190.0]),  # pushed down, then back up from the bottom
        ([5.0, 6.0, 7.0], 40.0, [10.0, 31.0, 52.0]),  # taller than the room: the top one stays in it
    ],
)
def test_placing_tags(wanted: list[float], bottom: float, placed: list[float]) -> None:
    assert place(wanted, [10.0] * len(wanted), bottom=bottom) == pytest.approx(placed)
