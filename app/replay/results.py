"""A replay's files: ``trades.csv``, ``summary.json`` and ``report.html``, written whole or not at all.

Everything is written into a temporary folder beside ``DIR`` and renamed to ``DIR`` at the end, so a folder
named ``DIR`` is always a complete replay. The files hold no wall-clock figure: the same inputs and seed give
byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.replay.outcome import TradeResult

logger = logging.getLogger(__name__)

COLUMNS = (
    "trade_id", "symbol", "direction", "open_time", "entry", "volume", "sl", "tp", "unmanaged_exit_time",
    "unmanaged_exit_price", "unmanaged_exit_reason", "unmanaged_profit", "unmanaged_r", "managed_exit_time",
    "managed_profit", "managed_r", "unmanaged_mae_r", "managed_mae_r", "actions", "final_state",
)  # fmt: skip


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(float(seconds), tz=UTC).isoformat(timespec="seconds")


def trades_csv(trades: list[TradeResult]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t in trades:
        writer.writerow([
            t.trade_id, t.symbol, t.direction, iso(t.open_time), t.entry, t.volume, t.sl, t.tp,
            iso(t.unmanaged_exit_time), t.unmanaged_exit_price, t.unmanaged_exit_reason, f"{t.unmanaged_profit:.2f}",
            f"{t.unmanaged_r:.4f}", iso(t.managed_exit_time), f"{t.managed_profit:.2f}", f"{t.managed_r:.4f}",
            f"{t.unmanaged_mae_r:.4f}", f"{t.managed_mae_r:.4f}", t.actions, t.final_state,
        ])  # fmt: skip
    return out.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class SideSummary:
    trades: int
    total_profit: float
    mean_r: float
    median_r: float
    win_rate: float
    profit_factor: float | None  # None: no losing trade
    worst_r: float
    max_drawdown: float  # money, of the equity curve in exit order


def equity_curve(profits: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(exit time, cumulative profit) in exit order."""
    total = 0.0
    curve = []
    for at, profit in sorted(profits):
        total += profit
        curve.append((at, round(total, 2)))
    return curve


def side_summary(rs: list[float], profits: list[tuple[float, float]]) -> SideSummary:
    if not rs:
        return SideSummary(
            trades=0,
            total_profit=0.0,
            mean_r=0.0,
            median_r=0.0,
            win_rate=0.0,
            profit_factor=None,
            worst_r=0.0,
            max_drawdown=0.0,
        )
    gains = sum(p for _, p in profits if p > 0)
    losses = -sum(p for _, p in profits if p < 0)
    peak, drawdown = 0.0, 0.0
    for _, equity in equity_curve(profits):
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    return SideSummary(
        trades=len(rs), total_profit=round(sum(p for _, p in profits), 2), mean_r=round(statistics.fmean(rs), 4),
        median_r=round(statistics.median(rs), 4), win_rate=round(sum(p > 0 for _, p in profits) / len(rs), 4),
        profit_factor=round(gains / losses, 4) if losses > 0 else None, worst_r=round(min(rs), 4),
        max_drawdown=round(drawdown, 2),
    )  # fmt: skip


def summary(trades: list[TradeResult], meta: dict) -> dict:
    unmanaged = side_summary(
        [t.unmanaged_r for t in trades], [(t.unmanaged_exit_time, t.unmanaged_profit) for t in trades]
    )
    managed = side_summary([t.managed_r for t in trades], [(t.managed_exit_time, t.managed_profit) for t in trades])
    difference = {}
    for name in ("total_profit", "mean_r", "median_r", "win_rate", "profit_factor", "worst_r", "max_drawdown"):
        a, b = getattr(managed, name), getattr(unmanaged, name)
        difference[name] = None if a is None or b is None else round(a - b, 4)
    from dataclasses import asdict

    return {
        "inputs": meta,
        "unmanaged": asdict(unmanaged),
        "managed": asdict(managed),
        "difference_managed_minus_unmanaged": difference,
    }


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_outputs(out: Path, trades: list[TradeResult], summary_data: dict, report_html: str) -> Path:
    """Write the three files into ``out`` atomically (a complete folder or none); returns ``out``."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (staging / "trades.csv").write_text(trades_csv(trades), encoding="utf-8")
        (staging / "summary.json").write_text(
            json.dumps(summary_data, indent=2, sort_keys=True, default=_clean) + "\n", encoding="utf-8"
        )
        (staging / "report.html").write_text(report_html, encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
