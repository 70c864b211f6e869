"""Keeping the main process's memory flat over months: fewer malloc arenas, free pages handed back.

The program's threads (database, executor, HTTP) each get a glibc malloc arena by default (up to eight per
core), and freed blocks stay in those arenas as the process's resident memory grows by small steps over
days. Limiting the arenas and trimming after the periodic housekeeping keeps the resident size level.
Elsewhere than glibc (Windows, macOS, musl) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for the threads started from now on; True where it applied."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, arenas) == 1)


def trim() -> bool:
    """Hand the free memory at the top of each arena back to the system; True if some was released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
