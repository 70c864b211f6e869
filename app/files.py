"""Files that hold account data (database, backups, log, token, journals) are the owner's alone on POSIX."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PRIVATE_MODE = 0o600


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist, and make an existing one 0600 (POSIX).

    Creating it here first means the program that writes it next (SQLite, logging) never makes it readable
    by others, whatever the umask. Returns ``path``."""
    path = Path(path)
    if sys.platform == "win32":
        path.touch(exist_ok=True)
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)
    return path


def private_umask() -> None:
    """Files this process creates from now on (SQLite's -wal and -shm, rotated logs) get no group/other bits."""
    if sys.platform != "win32":
        os.umask(0o077)
