"""Logging, configured once by main.py: a rotating file in the data directory plus the console."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from app.files import private_file

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(data_dir: Path, *, level: int = logging.INFO, console: bool = True) -> Path:
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
        stream.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stream)
    for noisy in ("uvicorn.error", "uvicorn.access", "asyncio", "peewee", "qasync"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
