"""The labels of a chart's horizontal levels (entry, breakeven trigger, SL, TP, bid, ask): opaque tags at the
right edge of the plot, each centred on its price, pushed apart where levels lie closer than a tag is high so
that no tag covers another. The chart leaves room on the right for them, past the last candle."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF

#: pixels between the tags and the plot's right edge, and between two tags pushed apart
EDGE_PX = 3.0
GAP_PX = 1.0
#: above the candles, the lines and the markers
TAG_Z = 20.0


@dataclass(slots=True)
class _Tag:
    item: pg.TextItem
    price: float


class PriceTags:
    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._view = plot.getViewBox()
        self._tags: dict[str, _Tag] = {}
        self._view.sigRangeChanged.connect(self.layout)
        self._view.sigResized.connect(self.layout)

    def clear(self) -> None:
        """Forget every tag (the plot's own ``clear`` has removed their items)."""
        self._tags = {}

    def add(self, name: str, text: str, price: float, colour: str, background: str) -> None:
        item = pg.TextItem(text, color=colour, anchor=(1.0, 0.5), border=pg.mkPen(colour), fill=pg.mkBrush(background))
        item.setZValue(TAG_Z)
        self._plot.addItem(item, ignoreBounds=True)
        self._tags[name] = _Tag(item, price)
        self.layout()

    def move(self, name: str, text: str, price: float) -> None:
        tag = self._tags.get(name)
        if tag is None:
            return
        tag.item.setText(text)
        tag.price = price
        self.layout()

    def names(self) -> list[str]:
        return list(self._tags)

    def text(self, name: str) -> str:
        return self._tags[name].item.toPlainText()

    def style(self, name: str) -> tuple[str, str]:
        """A tag's text and fill colours."""
        item = self._tags[name].item
        return item.color.name(), item.fill.color().name()

    def box(self, name: str) -> QRectF:
        """Where a tag is drawn, in the chart's time and price (``top`` is its lowest price)."""
        item = self._tags[name].item
        return item.mapRectToView(item.boundingRect())

    def layout(self, *_args: object) -> None:
        """Each tag at the right edge, centred on its price where it can be: tags that would cover each other are
        pushed apart downwards, then, where that pushed some past the bottom of the plot, back up from it."""
        (x0, x1), (y0, y1) = self._view.viewRange()
        width, height = self._view.width(), self._view.height()
        if not self._tags or width <= 0 or height <= 0 or y1 <= y0:
            return
        price_per_px = (y1 - y0) / height
        right = x1 - EDGE_PX * (x1 - x0) / width
        tags = sorted(self._tags.values(), key=lambda t: -t.price)
        halves = [tag.item.boundingRect().height() / 2 for tag in tags]
        centres = place([(y1 - tag.price) / price_per_px for tag in tags], halves, bottom=height)  # px from the top
        for tag, centre in zip(tags, centres, strict=True):
            tag.item.setPos(right, y1 - centre * price_per_px)


def place(wanted: list[float], halves: list[float], *, bottom: float) -> list[float]:
    """Centres (pixels from the top, top first) as near ``wanted`` as they can be, with ``GAP_PX`` between boxes
    of half-heights ``halves`` and none past ``bottom``; when the boxes are taller than the room, the top one
    stays in it and the lowest leave it."""
    centres = _pushed_down(wanted, halves, top=float("-inf"))
    highest = bottom + GAP_PX  # the top of the box placed last, going up
    for index in range(len(centres) - 1, -1, -1):
        centres[index] = min(centres[index], highest - GAP_PX - halves[index])
        highest = centres[index] - halves[index]
    return _pushed_down(centres, halves, top=0.0) if highest < 0.0 else centres


def _pushed_down(wanted: list[float], halves: list[float], *, top: float) -> list[float]:
    centres = []
    lowest = top - GAP_PX  # the bottom of the box placed last
    for want, half in zip(wanted, halves, strict=True):
        centres.append(max(want, lowest + GAP_PX + half))
        lowest = centres[-1] + half
    return centres
