"""Reading a replay's bar files: MT5's own CSV export or the common ``Date,Open,High,Low,Close,Volume`` CSV.

Every problem is a ``ReplayInputError`` naming the file, the line (1-based, as an editor shows it) and a fix.
Times without a zone are taken as the broker's server time, as MT5 exports them.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.errors import RejectedError

logger = logging.getLogger(__name__)

#: Bar lengths a replay accepts, in minutes (M1 to H1).
TIMEFRAMES = {1: "M1", 5: "M5", 15: "M15", 30: "M30", 60: "H1"}
#: Longest gap between two bars accepted without complaint (a long weekend with a holiday).
DEFAULT_MAX_GAP_HOURS = 96.0
_MT5_HEADER = ("<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>")
_TIME_FORMATS = (
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y.%m.%d",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
)


class ReplayInputError(RejectedError):
    """Bad replay input: names the file, the line and how to fix it."""

    def __init__(self, path: Path | str, line: int | None, problem: str, fix: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}. Fix: {fix}")
        self.path, self.line, self.problem, self.fix = str(path), line, problem, fix


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceBars:
    """One symbol's bars as read: open times (epoch seconds), OHLC (bid), spread in points (None: unknown)."""

    symbol: str
    path: str
    minutes: int  # bar length
    time: np.ndarray  # int64 epoch seconds
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    spread: np.ndarray | None
    lines: np.ndarray  # the file line of each bar

    @property
    def end(self) -> int:
        """Epoch seconds at which the last bar ends."""
        return int(self.time[-1]) + self.minutes * 60


def parse_time(text: str) -> datetime | None:
    text = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_bars(symbol: str, path: Path, *, max_gap_hours: float = DEFAULT_MAX_GAP_HOURS) -> SourceBars:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayInputError(
            path, None, f"cannot read the file ({error})", "give the path of a readable CSV file of bars"
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ReplayInputError(path, 1, "the file is empty", "export the bars again (MT5: Symbols > Bars > Export)")
    first = lines[0].strip()
    rows: list[tuple[int, datetime, list[str], str | None]] = []
    if first.upper().startswith("<DATE>"):
        header = [h.strip().upper() for h in first.split("\t")]
        if tuple(header[:6]) != _MT5_HEADER:
            raise ReplayInputError(
                path,
                1,
                f"unexpected MT5 header {first!r}",
                "export with MT5's own Bars > Export (tab separated, <DATE> <TIME> <OPEN> ...)",
            )
        spread_at = header.index("<SPREAD>") if "<SPREAD>" in header else None
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split("\t")
            when = parse_time(f"{cells[0]} {cells[1]}") if len(cells) >= 6 else None
            if when is None:
                raise ReplayInputError(
                    path,
                    number,
                    f"cannot read the row {line.strip()!r}",
                    "each row needs <DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE>, tab separated",
                )
            spread = cells[spread_at] if spread_at is not None and spread_at < len(cells) else None
            rows.append((number, when, cells[2:6], spread))
    else:
        reader = csv.reader(lines)
        header = [h.strip().lower() for h in next(reader)]
        try:
            cols = [header.index(name) for name in ("open", "high", "low", "close")]
        except ValueError:
            raise ReplayInputError(
                path,
                1,
                f"the header {first!r} has no Open, High, Low and Close columns",
                "use MT5's export or a CSV headed Date,Open,High,Low,Close,Volume",
            ) from None
        date_at = header.index("date") if "date" in header else 0
        time_at = header.index("time") if "time" in header else None
        spread_at = header.index("spread") if "spread" in header else None
        for number, cells in enumerate(reader, start=2):
            if not cells or not "".join(cells).strip():
                continue
            stamp = cells[date_at] + (f" {cells[time_at]}" if time_at is not None and time_at < len(cells) else "")
            when = parse_time(stamp) if len(cells) > max(cols) else None
            if when is None:
                raise ReplayInputError(
                    path,
                    number,
                    f"cannot read the row {','.join(cells)!r}",
                    "each row needs a date/time and Open, High, Low, Close numbers",
                )
            spread = cells[spread_at] if spread_at is not None and spread_at < len(cells) else None
            rows.append((number, when, [cells[i] for i in cols], spread))
    return _checked(symbol, path, rows, max_gap_hours)


def _checked(
    symbol: str, path: Path, rows: list[tuple[int, datetime, list[str], str | None]], max_gap_hours: float
) -> SourceBars:
    if len(rows) < 2:
        raise ReplayInputError(path, None, "fewer than two bars", "give at least a few days of bars")
    numbers = np.array([r[0] for r in rows], dtype=np.int64)
    times = np.array([int(r[1].timestamp()) for r in rows], dtype=np.int64)
    prices = np.empty((len(rows), 4))
    spreads = np.zeros(len(rows)) if rows[0][3] is not None else None
    for i, (number, _, cells, spread) in enumerate(rows):
        try:
            prices[i] = [float(v) for v in cells]
            if spreads is not None:
                spreads[i] = float(spread) if spread not in (None, "") else 0.0
        except ValueError:
            raise ReplayInputError(
                path, number, f"a price is not a number: {cells}", "remove or correct the row"
            ) from None
        o, h, l, c = prices[i]
        if not (min(o, h, l, c) > 0 and h >= max(o, c, l) and l <= min(o, c)):
            raise ReplayInputError(
                path,
                number,
                f"open {o}, high {h}, low {l}, close {c} are not a bar "
                "(high must be the highest, low the lowest, all positive)",
                "correct the row",
            )
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        raise ReplayInputError(
            path,
            int(numbers[i]),
            "rows are not sorted by time (this bar is not later than the one before)",
            "sort the file by time, oldest first, without duplicate bars",
        )
    minutes = int(np.min(steps) // 60)
    if minutes not in TIMEFRAMES or np.any(steps % (minutes * 60)) or np.any(times % (minutes * 60)):
        odd = np.flatnonzero((steps % max(minutes * 60, 60)) != 0)
        line = int(numbers[int(odd[0]) + 1]) if len(odd) else int(numbers[0])
        raise ReplayInputError(
            path,
            line,
            f"bars of {np.min(steps) / 60:g} minutes, or bars off their timeframe's grid",
            "give bars of one timeframe from M1 to H1 (M1, M5, M15, M30 or H1)",
        )
    gaps = np.flatnonzero(steps > max_gap_hours * 3600)
    if len(gaps):
        i = int(gaps[0]) + 1
        raise ReplayInputError(
            path,
            int(numbers[i]),
            f"a gap of {steps[i - 1] / 3600:.1f} hours before this bar (more than {max_gap_hours:g})",
            "fill the missing bars, split the file at the gap, or allow it with --max-gap-hours",
        )
    return SourceBars(
        symbol=symbol,
        path=str(path),
        minutes=minutes,
        time=times,
        open=prices[:, 0],
        high=prices[:, 1],
        low=prices[:, 2],
        close=prices[:, 3],
        spread=spreads,
        lines=numbers,
    )
