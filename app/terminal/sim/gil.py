"""Block the whole interpreter the way the MetaTrader5 extension does: inside C, without releasing the GIL.

``time.sleep`` releases the GIL, so other threads keep running and a hang would go unnoticed. A C function
called through ``ctypes.PyDLL`` keeps the GIL for the whole call, which is exactly how a slow terminal call
freezes every thread of the process that made it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _posix_sleeper() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    libc = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    nanosleep = libc.nanosleep
    nanosleep.argtypes = [ctypes.POINTER(_Timespec), ctypes.POINTER(_Timespec)]
    nanosleep.restype = ctypes.c_int
    return nanosleep


def block_holding_gil(seconds: float) -> None:
    """Sleep ``seconds`` in C while holding the GIL: no other Python thread of this process runs meanwhile."""
    if seconds <= 0:
        return
    logger.debug("blocking %.3f s while holding the GIL", seconds)
    if sys.platform == "win32":
        ctypes.PyDLL("kernel32").Sleep(ctypes.c_uint32(int(seconds * 1000)))
        return
    nanosleep = _posix_sleeper()
    whole = int(seconds)
    wanted = _Timespec(whole, int((seconds - whole) * 1_000_000_000))
    remaining = _Timespec(0, 0)
    # nanosleep returns -1 when a signal interrupts it; carry on with what is left, still in C.
    while nanosleep(ctypes.byref(wanted), ctypes.byref(remaining)) != 0:
        if ctypes.get_errno() != 4:  # EINTR
            break
        wanted = _Timespec(remaining.tv_sec, remaining.tv_nsec)
