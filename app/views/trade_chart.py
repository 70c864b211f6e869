"""The selected trade's chart: candles of the chosen timeframe, the live bid and ask, the entry (time and
price), the SL and TP over time as steps, the breakeven trigger, and a marker for every DTMS action whose
tooltip is the journal entry. The levels' labels are tags at the right edge (``PriceTags``), past the last
candle."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPicture

from app.engine.model import Direction, Trade
from app.engine.prices import price_text
from app.views.chart_palette import ChartColours, chart_colours
from app.views.journal_rows import JournalRow
from app.views.price_tags import PriceTags
from app.views.theme import follow_theme

logger = logging.getLogger(__name__)

CHART_BARS = 120
#: bars shown before the trade opened (its context), and at least this many bars in view
CONTEXT_BARS = 12
MIN_BARS = 30
#: room left on the right for the levels' tags, as a share of the candles' time span
TAG_ROOM = 0.3


class Candles(pg.GraphicsObject):
    """OHLC candles drawn once into a picture (a few hundred bars repaint in microseconds)."""

    def __init__(self, bars: np.ndarray, seconds: float, colours: ChartColours) -> None:
        super().__init__()
        self.count = len(bars)
        self.last_time = float(bars["time"][-1]) if len(bars) else 0.0
        self._picture = QPicture()
        painter = QPainter(self._picture)
        width = seconds * 0.35
        for t, o, h, low, c in zip(
            bars["time"].astype(float), bars["open"], bars["high"], bars["low"], bars["close"], strict=True
        ):
            colour = pg.mkColor(colours.up if c >= o else colours.down)
            painter.setPen(pg.mkPen(colour, width=0))
            painter.drawLine(QPointF(t, float(low)), QPointF(t, float(h)))
            painter.setBrush(pg.mkBrush(colour))
            painter.drawRect(QRectF(t - width, float(o), 2 * width, float(c - o) or 1e-9))
        painter.end()
        self._bounds = QRectF(self._picture.boundingRect())

    def paint(self, painter: QPainter, *_args: object) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return self._bounds


def _tip(row: JournalRow) -> str:
    when = datetime.fromtimestamp(row.at, tz=UTC).strftime("%H:%M:%S")
    lines = [f"{when}  {row.kind} {row.outcome}"]
    lines += [text for text in (row.reason, row.change, row.order, f"MT5: {row.mt5}") if text]
    return "\n".join(lines)


class TradeChart(pg.PlotWidget):
    def __init__(self, parent: object = None) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.levels: dict[str, float] = {}
        self.markers: list[tuple[float, float, str]] = []  # (time, price, tooltip) of each action drawn
        self.candles: Candles | None = None
        self._bid: pg.InfiniteLine | None = None
        self._ask: pg.InfiniteLine | None = None
        self._digits: int | None = None
        #: the trader panned or zoomed since the trade was first drawn: a redraw keeps that view
        self.moved_by_user = False
        self.getPlotItem().hideButtons()
        self.getViewBox().sigRangeChangedManually.connect(self._moved)
        self.tags = PriceTags(self.getPlotItem())
        follow_theme(self)  # background and axes at once; the trade's own colours when the pane redraws it

    def show_trade(
        self,
        trade: Trade,
        bars: np.ndarray | None,
        *,
        seconds: float,
        breakeven_r: float,
        rows: list[JournalRow],
        sl_steps: list[tuple[float, float]],
        tp_steps: list[tuple[float, float]],
        bid: float,
        ask: float,
        digits: int | None = None,
        keep_view: bool = False,
    ) -> None:
        """Draw everything; the price range holds the candles, the levels and the live price. ``digits``: the
        symbol's, for the tags' prices. ``keep_view``: the same trade drawn again (a new bar, the theme), so a view
        the trader panned or zoomed to stays as it is."""
        colours = chart_colours()
        kept = self.getViewBox().viewRange() if keep_view and self.moved_by_user else None
        self.moved_by_user = kept is not None
        self.clear()
        self.tags.clear()
        self._digits = digits
        self.setBackground(colours.background)
        for side in ("left", "bottom"):
            self.getAxis(side).setPen(colours.foreground)
            self.getAxis(side).setTextPen(colours.foreground)
        self.showGrid(x=True, y=True, alpha=colours.grid_alpha)
        self.levels, self.markers, self.candles = {}, [], None
        prices: list[float] = []
        times: list[float] = []
        opened = trade.opened_at or trade.registered_at
        if bars is not None and len(bars):
            recent = bars[-CHART_BARS:]
            # from a little before the trade opened (at least MIN_BARS), so its own bars are not squeezed
            first = len(recent) - MIN_BARS
            if opened:
                first = min(first, int(np.searchsorted(recent["time"], opened)) - CONTEXT_BARS)
            recent = recent[max(0, first) :]
            self.candles = Candles(recent, seconds, colours)
            self.addItem(self.candles)
            prices += [float(recent["low"].min()), float(recent["high"].max())]
            times += [float(recent["time"][0]), float(recent["time"][-1]) + seconds]
        self._steps(sl_steps, colours.sl, "SL")
        self._steps(tp_steps, colours.tp, "TP")
        if opened:
            self.addItem(
                pg.InfiniteLine(
                    pos=opened,
                    angle=90,
                    pen=pg.mkPen(colours.entry, style=Qt.PenStyle.DotLine),
                    label="opened",
                    labelOpts={"position": 0.95, "color": colours.entry},
                )
            )
            self.addItem(
                pg.ScatterPlotItem(
                    [opened],
                    [trade.entry],
                    symbol="t1" if trade.direction is Direction.BUY else "t",
                    size=14,
                    brush=pg.mkBrush(colours.entry),
                    pen=None,
                )
            )
        sign = 1 if trade.direction is Direction.BUY else -1
        levels = {"entry": (trade.entry, colours.entry)}
        if trade.r > 0 and not trade.breakeven_triggered and trade.active:
            levels["BE trigger"] = (trade.entry + sign * breakeven_r * trade.r, colours.trigger)
        for name, (price, colour) in levels.items():
            self.levels[name] = price
            self.addItem(pg.InfiniteLine(pos=price, angle=0, pen=pg.mkPen(colour, style=Qt.PenStyle.DashLine)))
        for name, points, colour in (("SL", sl_steps, colours.sl), ("TP", tp_steps, colours.tp)):
            if points and points[-1][1]:
                self.levels[name] = points[-1][1]
                levels[name] = (points[-1][1], colour)
        for name, (price, colour) in levels.items():
            self.tags.add(name, f"{name} {price_text(price, digits)}", price, colour, colours.background)
        self._markers(rows, colours)
        self._bid = self._ask = None
        if trade.active and bid:
            self._bid = self._live(bid, colours.bid, "bid", colours.background)
            self._ask = self._live(ask, colours.ask, "ask", colours.background)
            prices += [bid, ask]
        prices += [p for p in self.levels.values() if p]
        prices += [p for _t, p in sl_steps + tp_steps if p]  # the whole history of the SL and TP is in view
        times += [t for t, _p, _tip in self.markers] + ([opened] if opened else [])
        if kept is not None:
            (left, right), (low, high) = kept
            self.setRange(xRange=(left, right), yRange=(low, high), padding=0)
            return
        if prices:
            low, high = min(prices), max(prices)
            room = (high - low) * 0.08 or abs(high) * 1e-4
            self.setYRange(low - room, high + 1.5 * room, padding=0)
        if times:
            left, right = min(times), max(times) + seconds * 2
            self.setXRange(left, right + (right - left) * TAG_ROOM, padding=0.02)

    def _moved(self, _axes: object) -> None:
        self.moved_by_user = True

    def update_price(self, bid: float, ask: float) -> None:
        """The live bid and ask, moved in place at each cycle (nothing else is redrawn)."""
        if self._bid is not None and bid:
            self._bid.setValue(bid)
            self.tags.move("bid", f"bid {price_text(bid, self._digits)}", bid)
        if self._ask is not None and ask:
            self._ask.setValue(ask)
            self.tags.move("ask", f"ask {price_text(ask, self._digits)}", ask)

    @property
    def bid_line(self) -> float | None:
        return None if self._bid is None else float(self._bid.value())

    def _live(self, price: float, colour: str, name: str, background: str) -> pg.InfiniteLine:
        line = pg.InfiniteLine(pos=price, angle=0, pen=pg.mkPen(colour, width=1))
        self.addItem(line)
        self.tags.add(name, f"{name} {price_text(price, self._digits)}", price, colour, background)
        return line

    def _steps(self, points: list[tuple[float, float]], colour: str, name: str) -> None:
        shown = [(t, p) for t, p in points if p]
        if len(shown) < 2:
            return
        x, y = zip(*shown, strict=True)
        self.addItem(pg.PlotDataItem(list(x), list(y), pen=pg.mkPen(colour, width=2), name=name))

    def _markers(self, rows: list[JournalRow], colours: ChartColours) -> None:
        spots = []
        for row in rows:
            price = row.price or self._nearest_close(row.at)
            if price is None:
                continue
            colour = (
                colours.action_ok
                if row.ok
                else (colours.action_failed if row.outcome == "FAILED" else colours.action_other)
            )
            tip = _tip(row)
            self.markers.append((row.at, price, tip))
            spots.append(
                {
                    "pos": (row.at, price),
                    "data": tip,
                    "brush": pg.mkBrush(colour),
                    "pen": pg.mkPen(colours.foreground, width=1),
                    "symbol": "d" if row.ok else "x",
                    "size": 12,
                }
            )
        if spots:
            scatter = pg.ScatterPlotItem(hoverable=True, tip=lambda x, y, data: data, hoverSize=16)
            scatter.addPoints(spots)
            self.addItem(scatter)

    def _nearest_close(self, at: float) -> float | None:
        return self.levels.get("entry")
