"""The score tab: each component's raw score, weight and contribution, the total on a scale with the state
thresholds, the regime, and why the trade is not in the next state when its score has crossed a threshold."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.defense.rules import DefenseSettings, way_back, why_not_next
from app.engine.model import DefensiveState, Trade
from app.views.palette import STATE_COLOURS

logger = logging.getLogger(__name__)


class ScoreScale(QWidget):
    """A horizontal scale from the hedge line's far side to the healthy side, the thresholds marked and
    labelled, and the trade's total as a marker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(64)
        self.total: float | None = None
        self.marks: list[tuple[float, str, str]] = []  # (score, label, colour)

    def set_scale(self, total: float | None, settings: DefenseSettings) -> None:
        self.total = total
        self.marks = [
            (settings.hedge_score, f"{settings.hedge_score:+g} HEDGED", STATE_COLOURS[DefensiveState.HEDGED]),
            (settings.warning_l2_score, f"{settings.warning_l2_score:+g} L2", STATE_COLOURS[DefensiveState.WARNING_L2]),
            (settings.warning_l1_score, f"{settings.warning_l1_score:+g} L1", STATE_COLOURS[DefensiveState.WARNING_L1]),
            (
                settings.healthy_again_score,
                f"{settings.healthy_again_score:+g} healthy",
                STATE_COLOURS[DefensiveState.HEALTHY],
            ),
        ]
        self.update()

    def span(self) -> tuple[float, float]:
        scores = [m[0] for m in self.marks] + ([self.total] if self.total is not None else [])
        return min(scores + [-8.0]) - 1.0, max(scores + [4.0]) + 1.0

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        low, high = self.span()
        left, right, y = 12.0, self.width() - 12.0, 26.0

        def x(score: float) -> float:
            return left + (score - low) / (high - low) * (right - left)

        painter.setPen(QPen(text, 2))
        painter.drawLine(QPointF(left, y), QPointF(right, y))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        for score, label, colour in self.marks:
            painter.setPen(QPen(QColor(colour), 2))
            painter.drawLine(QPointF(x(score), y - 8), QPointF(x(score), y + 8))
            painter.drawText(QRectF(x(score) - 50, y + 10, 100, 18), Qt.AlignmentFlag.AlignHCenter, label)
        if self.total is not None:
            at = x(self.total)
            painter.setPen(QPen(text, 1))
            painter.setBrush(text)
            painter.drawPolygon([QPointF(at, y - 2), QPointF(at - 7, y - 14), QPointF(at + 7, y - 14)])
            painter.drawText(QRectF(at - 40, 0, 80, 12), Qt.AlignmentFlag.AlignHCenter, f"{self.total:+z.2f}")
        painter.end()


class ScoreView(QWidget):
    HEADERS = ("Component", "Raw", "Weight", "Contribution", "Why")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scale = ScoreScale()
        self.why_not = QLabel()
        self.why_not.setWordWrap(True)
        self.why_not.setObjectName("whyNotNext")
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.scale)
        layout.addWidget(self.why_not)
        layout.addWidget(self.table, 1)

    def show_score(self, trade: Trade, score: Any | None, settings: DefenseSettings, *, paused: bool) -> None:
        """``score`` is the engine's Score with components (None before the symbol's first deep check)."""
        total = score.total if score is not None else trade.score
        held = why_not_next(
            trade, total, settings, paused=paused, choch_against=bool(score is not None and score.choch_against)
        )
        back = way_back(trade, total, settings).replace("(now ", "(now\u00a0") if not held else ""  # kept together
        self.why_not.setText(f"<b>Why not the next state:</b> {held}" if held else back)
        self.why_not.setVisible(bool(held or back))
        self.scale.set_scale(total, settings)
        if score is None:
            self.summary.setText(
                f"Score {trade.score:+z.2f} in state {trade.state.value}. "
                + (trade.score_explanation or "Components appear after the first deep check.")
            )
            self.table.setRowCount(0)
            return
        self.summary.setText(
            f"<b>Total {score.total:+z.2f}</b> ({score.confluence}) &nbsp; state "
            f"<b>{trade.state.value}</b> &nbsp; regime <b>{score.regime}</b>"
            f"<br>contribution = raw x weight (the weight adapted to the regime)"
        )
        rows = [
            (
                c.name.display_name if hasattr(c.name, "display_name") else str(c.name),
                f"{c.raw:+g}" if c.available else "n/a",
                f"{c.weight:g}",
                f"{c.weighted:+z.2f}" if c.available else "-",
                c.reason,
            )
            for c in score.components
        ]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for col, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        self.table.resizeColumnsToContents()
