"""File > Replay...: pick bar files and trades, run the replay in its own process with a progress bar and a
cancel button, then show the trades table and the equity curves, and open the report."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.settings import EngineSettings
from app.replay.report import MANAGED_COLOUR, UNMANAGED_COLOUR
from app.replay.runner import ReplayRequest
from app.replay.worker import JobUpdate, ReplayJob

logger = logging.getLogger(__name__)

POLL_MS = 100
_SHOWN = (
    "trade_id",
    "symbol",
    "direction",
    "open_time",
    "unmanaged_exit_reason",
    "unmanaged_r",
    "managed_r",
    "actions",
    "final_state",
)


def _open_url(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def guess_symbol(path: Path) -> str:
    match = re.match(r"[A-Za-z]{6}|[A-Za-z0-9]+", path.stem)
    return match.group(0).upper() if match else path.stem.upper()


class ReplayDialog(QDialog):
    def __init__(
        self,
        *,
        settings: EngineSettings,
        out_dir: Path,
        open_url: Callable[[Path], None] = _open_url,
        history_terminal: object = None,
        parent: QWidget | None = None,
    ) -> None:
        """``history_terminal``: the real terminal's TerminalSpec, which offers "my last N days"."""
        super().__init__(parent)
        self.setWindowTitle("Replay: what DTMS would have done")
        self.resize(980, 720)
        self._settings = settings
        self._open_url = open_url
        self._history_terminal = history_terminal
        self.job: ReplayJob | None = None
        self.report: Path | None = None
        self.bars = QTableWidget(0, 2)
        self.bars.setHorizontalHeaderLabels(["Symbol", "Bars file (MT5 export or Date,Open,High,Low,Close)"])
        self.bars.horizontalHeader().setStretchLastSection(True)
        self.bars.setMaximumHeight(120)
        add_bars = QPushButton("Add bars...")
        add_bars.clicked.connect(self._pick_bars)
        self.from_csv = QRadioButton("Trades CSV")
        self.generated = QRadioButton("Generated entries")
        self.generated.setChecked(True)
        self.trades_path = QLineEdit()
        self.trades_path.setPlaceholderText("open_time,symbol,direction,volume,sl,tp[,entry]")
        pick_trades = QPushButton("Browse...")
        pick_trades.clicked.connect(self._pick_trades)
        self.entries = QSpinBox()
        self.entries.setRange(1, 5000)
        self.entries.setValue(100)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(1)
        self.history = QRadioButton("My closed trades of the last")
        self.history_days = QSpinBox()
        self.history_days.setRange(1, 3650)
        self.history_days.setValue(30)
        self.history.setEnabled(history_terminal is not None)
        self.history_days.setEnabled(history_terminal is not None)
        if history_terminal is None:
            self.history.setToolTip("Needs a real MetaTrader 5 terminal")
        self.out = QLineEdit(str(out_dir))
        self.run_button = QPushButton("Run replay")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.report_button = QPushButton("Open report")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(lambda: self.report and self._open_url(self.report))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Add the bars of each symbol, choose the trades, then run.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(_SHOWN))
        self.table.setHorizontalHeaderLabels(list(_SHOWN))
        self.table.setSortingEnabled(True)
        self.chart = pg.PlotWidget(background="w")
        self.chart.addLegend()
        self.chart.setLabel("left", "cumulative profit")
        self.chart.setLabel("bottom", "trades closed")
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

        form = QFormLayout()
        trades_row = QHBoxLayout()
        trades_row.addWidget(self.from_csv)
        trades_row.addWidget(self.trades_path, 1)
        trades_row.addWidget(pick_trades)
        generated_row = QHBoxLayout()
        generated_row.addWidget(self.generated)
        generated_row.addWidget(QLabel("count"))
        generated_row.addWidget(self.entries)
        generated_row.addWidget(QLabel("seed"))
        generated_row.addWidget(self.seed)
        generated_row.addStretch(1)
        history_row = QHBoxLayout()
        history_row.addWidget(self.history)
        history_row.addWidget(self.history_days)
        history_row.addWidget(QLabel("days (the terminal's own trades and bars)"))
        history_row.addStretch(1)
        form.addRow("Trades", trades_row)
        form.addRow("", generated_row)
        form.addRow("", history_row)
        form.addRow("Output folder", self.out)
        buttons = QHBoxLayout()
        for widget in (self.run_button, self.cancel_button, self.report_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bars)
        layout.addWidget(add_bars)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.chart, 2)

    # --- inputs -------------------------------------------------------------------------------------------

    def add_bars(self, symbol: str, path: Path) -> None:
        row = self.bars.rowCount()
        self.bars.insertRow(row)
        self.bars.setItem(row, 0, QTableWidgetItem(symbol))
        self.bars.setItem(row, 1, QTableWidgetItem(str(path)))

    def _pick_bars(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Bars files", "", "CSV files (*.csv *.txt);;All files (*)")
        for name in files:
            self.add_bars(guess_symbol(Path(name)), Path(name))

    def _pick_trades(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Trades file", "", "CSV files (*.csv);;All files (*)")
        if name:
            self.trades_path.setText(name)
            self.from_csv.setChecked(True)

    def request(self) -> ReplayRequest:
        bars = {}
        for row in range(self.bars.rowCount()):
            symbol, path = self.bars.item(row, 0), self.bars.item(row, 1)
            if symbol and path and symbol.text().strip():
                bars[symbol.text().strip()] = Path(path.text().strip())
        use_csv = self.from_csv.isChecked()
        return ReplayRequest(
            bars=bars,
            trades_csv=Path(self.trades_path.text()) if use_csv else None,
            entries=0 if use_csv else self.entries.value(),
            seed=self.seed.value(),
            settings=self._settings,
        )

    # --- running --------------------------------------------------------------------------------------------

    def start(self) -> None:
        request = self.request()
        from_history = self.history.isChecked() and self._history_terminal is not None
        if not request.bars and not from_history:
            self.status.setText("Add the bars of at least one symbol first.")
            return
        self.report = None
        self.report_button.setEnabled(False)
        self.table.setRowCount(0)
        self.chart.clear()
        history = (self._history_terminal, float(self.history_days.value())) if from_history else None
        self.job = ReplayJob(request, Path(self.out.text()), history=history)
        self.job.start()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText("Replaying...")
        self._timer.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling...")

    def poll(self) -> None:
        if self.job is None:
            return
        for update in self.job.poll():
            self._apply(update)

    def _apply(self, update: JobUpdate) -> None:
        if update.kind == "progress":
            self.progress.setValue(int(update.fraction * 1000))
            self.status.setText(
                f"Replaying... {update.fraction * 100:.0f} %, trades {update.trades_done} of {update.trades}"
            )
            return
        self._timer.stop()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.job = None
        if update.kind == "done":
            self.progress.setValue(1000)
            out = Path(update.out)
            self.show_results(out)
            self.report = out / "report.html"
            self.report_button.setEnabled(True)
            self.status.setText(f"{update.trades} trades replayed; files in {out}")
            self._open_url(self.report)
        else:
            self.progress.setValue(0)
            self.status.setText(f"Replay {update.kind}: {update.message}")

    def show_results(self, out: Path) -> None:
        with (out / "trades.csv").open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, name in enumerate(_SHOWN):
                self.table.setItem(r, c, QTableWidgetItem(row[name]))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.chart.clear()
        for name, colour, time_key, profit_key in (
            ("unmanaged", UNMANAGED_COLOUR, "unmanaged_exit_time", "unmanaged_profit"),
            ("managed by DTMS", MANAGED_COLOUR, "managed_exit_time", "managed_profit"),
        ):
            total, curve = 0.0, [0.0]
            for row in sorted(rows, key=lambda x: x[time_key]):
                total += float(row[profit_key])
                curve.append(total)
            self.chart.plot(list(range(len(curve))), curve, pen=pg.mkPen(colour, width=2), name=name)

    def done(self, result: int) -> None:
        if self.job is not None:
            self._timer.stop()
            self.job.stop()
            self.job = None
        super().done(result)
