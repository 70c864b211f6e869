"""Keeping the main process's memory flat over months: fewer malloc arenas, free pages handed back.

The program's threads (database, executor, HTTP) each get a glibc malloc arena by default (up to eight per
core), and freed blocks stay in those arenas as the process's resident memory grows by small steps over
days. Limiting the arenas and trimming after the periodic housekeeping keeps the resident size level.

glibc also raises its mmap threshold each time a block it had mapped is freed (up to 32 MiB), after which
large temporary blocks (a terminal reply, bars as arrays) come from the heap and leave it larger, holed, by
about a megabyte at a time. The threshold is therefore fixed at its default: such blocks are mapped and given
back when freed. Elsewhere than glibc (Windows, macOS, musl) all of this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
ARENAS = 2
#: blocks from this size on are mapped on their own and returned to the system when freed (glibc's default,
#: fixed so that it no longer rises)
MMAP_THRESHOLD = 128 * 1024


@functools.cache  # found once: find_library runs ``ldconfig -p`` in a new process at every call
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for the threads started from now on, and large blocks mapped on their own
    (``MMAP_THRESHOLD``, fixed); True where it applied."""
    libc = _libc()
    if libc is None:
        return False
    return libc.mallopt(_M_ARENA_MAX, arenas) == 1 and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1


def trim() -> bool:
    """Hand the free memory at the top of each arena back to the system; True if some was released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
