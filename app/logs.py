"""Logging, configured once by main.py: a rotating file in the data directory plus the console.

The file keeps everything (rotated, so bounded on disk). The console keeps a long run's output bounded too:
a message that repeats (the same logger, level and text pattern, e.g. a reconnection attempt every few
seconds for hours) is shown a few times, then summed up once per ``RepeatFilter.window_s``.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.files import private_file

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RepeatFilter(logging.Filter):
    """Lets a repeated message through ``burst`` times per ``window_s``; then one summary line per window."""

    def __init__(
        self,
        *,
        burst: int = 3,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1000,
    ) -> None:
        super().__init__()
        self.burst, self.window_s, self._clock, self._max_keys = burst, window_s, clock, max_keys
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # key -> [window start, count in window]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.window_s:
            held = int(seen[1]) - self.burst if seen is not None else 0
            if len(self._seen) >= self._max_keys:
                self._seen.clear()
            self._seen[key] = [now, 1]
            record.held_repeats = max(held, 0)  # read by ConsoleFormatter; the record itself is not changed
            return True
        seen[1] += 1
        return seen[1] <= self.burst


class ConsoleFormatter(logging.Formatter):
    """Adds how many repeats of a message ``RepeatFilter`` held back since it was last shown."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        held = getattr(record, "held_repeats", 0)
        return f"{text} (and {held} more like it before, in the log file)" if held else text


def configure_logging(
    data_dir: Path, *, level: int = logging.INFO, console: bool = True, console_level: int = logging.INFO
) -> Path:
    """Returns the log file's path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = private_file(data_dir / "dtms-desk.log")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler(sys.stdout)
        stream.setFormatter(ConsoleFormatter(FORMAT))
        stream.setLevel(console_level)
        stream.addFilter(RepeatFilter())
        root.addHandler(stream)
    for noisy in ("uvicorn.error", "uvicorn.access", "asyncio", "peewee", "qasync"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
