"""File > Replay...: the dialog runs a replay in its own process, shows its table and curves, opens the report;
a cancel stops it and leaves no output; and the replay modules never import Qt."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.engine.settings import EngineSettings
from app.views.replay.dialog import ReplayDialog, guess_symbol
from tests.engine.test_layers import imported_after
from tests.replay.bars import bars_from_closes, calm, write_common
from tests.replay.scenario import scripted_files

pytestmark = pytest.mark.slow


def _wait(qtbot, dialog: ReplayDialog, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while dialog.job is not None and time.monotonic() < deadline:
        qtbot.wait(50)
    assert dialog.job is None, "the replay did not end"


def test_the_dialog_replays_and_shows_the_results(qtbot, tmp_path: Path) -> None:
    opened: list[Path] = []
    dialog = ReplayDialog(settings=EngineSettings(), out_dir=tmp_path / "out", open_url=opened.append)
    qtbot.addWidget(dialog)
    bars, trades = scripted_files(tmp_path / "in")
    dialog.add_bars("EURUSD", bars)
    dialog.from_csv.setChecked(True)
    dialog.trades_path.setText(str(trades))
    dialog.start()
    assert not dialog.run_button.isEnabled() and dialog.cancel_button.isEnabled()
    _wait(qtbot, dialog)
    assert dialog.table.rowCount() == 2, dialog.status.text()
    assert len(dialog.chart.getPlotItem().listDataItems()) == 2
    assert opened == [tmp_path / "out" / "report.html"] and opened[0].exists()
    assert dialog.report_button.isEnabled() and dialog.progress.value() == 1000


def test_a_cancelled_replay_writes_nothing(qtbot, tmp_path: Path) -> None:
    times, o, h, l, c = bars_from_closes(calm(24 * 60 * 20, step=0.0001), minutes=1)
    bars = write_common(tmp_path / "eurusd_m1.csv", times, o, h, l, c)
    dialog = ReplayDialog(settings=EngineSettings(), out_dir=tmp_path / "out", open_url=lambda _p: None)
    qtbot.addWidget(dialog)
    dialog.add_bars(guess_symbol(bars), bars)
    dialog.entries.setValue(200)
    dialog.start()
    deadline = time.monotonic() + 60
    while dialog.progress.value() == 0 and dialog.job is not None and time.monotonic() < deadline:
        qtbot.wait(50)
    dialog.cancel()
    _wait(qtbot, dialog)
    assert "cancelled" in dialog.status.text()
    assert not (tmp_path / "out").exists() and dialog.table.rowCount() == 0


def test_the_replay_never_imports_qt() -> None:
    modules = imported_after("import app.replay.command, app.replay.worker, app.replay.runner")
    assert sorted(m for m in modules if m.startswith(("PySide6", "qasync", "shiboken6", "app.views"))) == []


def test_my_last_days_replays_the_terminals_own_closed_trades(qtbot, tmp_path: Path) -> None:
    from app.terminal.sim.terminal import SimulatedTerminal
    from app.terminal.spec import TerminalKind, TerminalSpec

    sim = SimulatedTerminal(data_dir=tmp_path / "broker", speed=0.0)
    assert sim.initialize()
    tick = sim.symbol_info_tick("EURUSD")
    ticket = sim.control(
        "open_position",
        symbol="EURUSD",
        type="BUY",
        volume=0.2,
        sl=round(tick.ask - 0.0030, 5),
        tp=round(tick.ask + 0.0060, 5),
    )["order"]
    sim.control("advance", seconds=1800)
    if sim.positions_get(ticket=ticket):
        sim.control("close_position", ticket=ticket)
    sim.shutdown()
    sim.close()
    terminal = TerminalSpec(kind=TerminalKind.SIM, data_dir=tmp_path / "broker", speed=0.0)
    without = ReplayDialog(settings=EngineSettings(), out_dir=tmp_path / "none", open_url=lambda _p: None)
    qtbot.addWidget(without)
    assert not without.history.isEnabled()
    dialog = ReplayDialog(
        settings=EngineSettings(), out_dir=tmp_path / "out", open_url=lambda _p: None, history_terminal=terminal
    )
    qtbot.addWidget(dialog)
    dialog.history.setChecked(True)
    dialog.history_days.setValue(2)
    dialog.start()
    _wait(qtbot, dialog, 180)
    assert dialog.table.rowCount() == 1, dialog.status.text()
    assert dialog.table.item(0, 2).text() == "BUY"
