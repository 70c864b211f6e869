"""The real engine manages replayed trades: profit protection, the defensive state machine, the journal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.engine.model import ActionKind, ActionOutcome, Direction
from app.replay.command import save
from app.replay.runner import ReplayRequest, ReplayResult, run_replay
from tests.replay.scenario import scripted_files

pytestmark = pytest.mark.slow
_SL_MOVES = {ActionKind.BREAKEVEN, ActionKind.TRAIL, ActionKind.TIGHTEN}


def _replay(folder: Path) -> ReplayResult:
    bars, trades = scripted_files(folder)
    return asyncio.run(run_replay(ReplayRequest(bars={"EURUSD": bars}, trades_csv=trades, seed=11)))


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplayResult, Path]:
    folder = tmp_path_factory.mktemp("scripted")
    result = _replay(folder / "in")
    out, _ = save(result, folder / "out")
    return result, out


def _succeeded(result: ReplayResult, trade_id: int) -> list[ActionKind]:
    return [r.kind for r in result.actions[trade_id] if r.outcome is ActionOutcome.SUCCESS]


def test_breakeven_partial_and_defensive_transitions_are_reached(scripted: tuple[ReplayResult, Path]) -> None:
    result, out = scripted
    first, second = result.trades
    assert ActionKind.BREAKEVEN in _succeeded(result, 1) and ActionKind.PARTIAL_TAKE in _succeeded(result, 1)
    assert first.managed_r > first.unmanaged_r and first.unmanaged_exit_reason == "sl"
    assert "BREAKEVEN" in first.actions and "PARTIAL_TAKE" in first.actions
    states = [j.text for j in result.journals[2] if j.what == "STATE"]
    assert any(s.startswith("HEALTHY -> WARNING_L1") for s in states)
    assert any(s.startswith("WARNING_L1 -> WARNING_L2") for s in states)
    assert ActionKind.TIGHTEN in _succeeded(result, 2) and ActionKind.PARTIAL_CLOSE in _succeeded(result, 2)
    assert second.final_state == "CLOSED"
    report = (out / "report.html").read_text(encoding="utf-8")
    for text in (
        "BREAKEVEN SUCCESS",
        "PARTIAL_TAKE SUCCESS",
        "HEALTHY -&gt; WARNING_L1",
        "WARNING_L1 -&gt; WARNING_L2",
        "TIGHTEN SUCCESS",
    ):
        assert text in report, text
    assert "<script" not in report and "http://" not in report.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_no_stop_loss_is_ever_loosened(scripted: tuple[ReplayResult, Path]) -> None:
    result, _ = scripted
    moved = 0
    for trade in result.trades:
        buy = trade.direction == Direction.BUY.value
        sl = trade.sl
        for record in result.actions[trade.trade_id]:
            if record.kind in _SL_MOVES and record.outcome is ActionOutcome.SUCCESS:
                new = float(record.request["sl"])
                assert (new >= sl) if buy else (new <= sl), (trade.trade_id, record)
                sl, moved = new, moved + 1
    assert moved >= 5


def test_the_same_inputs_and_seed_give_the_same_files(scripted: tuple[ReplayResult, Path], tmp_path: Path) -> None:
    _, out = scripted
    again, _ = save(_replay(tmp_path / "in"), tmp_path / "out")
    for name in ("trades.csv", "summary.json", "report.html"):
        first = (out / name).read_text(encoding="utf-8").replace(str(out.parent / "in"), "IN")
        second = (again / name).read_text(encoding="utf-8").replace(str(tmp_path / "in"), "IN")
        assert first == second, name
