"""What only Windows needs: an orderly stop on every way a console program is ended there, and the identity
notifications are shown under.

Windows sends no SIGTERM. Ctrl+C arrives as SIGINT and Ctrl+Break as SIGBREAK (both handled with the other
stop signals); closing the console window, logging off and shutting down arrive only through a console
control handler (``SetConsoleCtrlHandler``), on a thread of their own, and Windows ends the process as soon
as the handler returns, or after about five seconds regardless. The handler therefore sets the same stop
event and then waits, within that time, until the program has stopped.

Without an AppUserModelID a Python program's notifications come from "Python"; with one, registered with a
display name, they come from "DTMS Desk".

Every Windows call goes through an object passed in (``kernel32``, ``shell32``, ``winreg``), so the logic runs
anywhere with stand-ins; the real ones are only loaded on Windows.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
CTRL_CLOSE_EVENT = 2
CTRL_LOGOFF_EVENT = 5
CTRL_SHUTDOWN_EVENT = 6
#: Seconds the handler may keep Windows waiting for the orderly stop: Windows ends the process about five
#: seconds after a close, logoff or shutdown signal, so the stop must be done a little before that.
STOP_BUDGET_S = {CTRL_CLOSE_EVENT: 4.5, CTRL_LOGOFF_EVENT: 4.5, CTRL_SHUTDOWN_EVENT: 4.5}

APP_USER_MODEL_ID = "DTMS.Desk"
APP_DISPLAY_NAME = "DTMS Desk"
_AUMID_KEY = rf"Software\Classes\AppUserModelId\{APP_USER_MODEL_ID}"


def is_windows() -> bool:
    return sys.platform == "win32"


class ConsoleStop:
    """A console control handler that sets ``stop_event`` and holds Windows off until ``stopped`` is set."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        stop_event: asyncio.Event,
        *,
        kernel32: Any = None,
        stopped: threading.Event | None = None,
    ) -> None:
        self._loop = loop
        self._stop_event = stop_event
        self._kernel32 = kernel32
        self.stopped = stopped or threading.Event()
        self.events: list[int] = []
        self._routine: Any = None

    def handle(self, event: int) -> bool:
        """The handler's logic (runs on a thread Windows creates). True: handled, do not end the process yet."""
        self.events.append(event)
        if event in (CTRL_C_EVENT, CTRL_BREAK_EVENT):
            return False  # SIGINT and SIGBREAK handlers take these
        if event not in STOP_BUDGET_S:
            return False
        logger.warning("Windows is ending the program (console event %d): stopping", event)
        try:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        except RuntimeError:  # the loop is already closed: the program is past its stop
            return True
        self.stopped.wait(STOP_BUDGET_S[event])
        return True

    def install(self) -> bool:
        """Register with Windows (or the stand-in); False where there is no console API."""
        kernel32 = self._kernel32
        if kernel32 is None:
            if not is_windows():
                return False
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        factory = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)
        prototype = factory(ctypes.c_int, ctypes.c_uint)
        self._routine = prototype(lambda event: 1 if self.handle(int(event)) else 0)  # kept alive with self
        if not kernel32.SetConsoleCtrlHandler(self._routine, True):
            logger.warning("the console control handler could not be installed")
            return False
        self._kernel32 = kernel32
        atexit.register(self.stopped.set)  # the interpreter is finishing: let Windows end the process
        return True

    def remove(self) -> None:
        if self._routine is not None and self._kernel32 is not None:
            self._kernel32.SetConsoleCtrlHandler(self._routine, False)
        self.stopped.set()


def set_app_user_model_id(*, shell32: Any = None, registry: Any = None) -> bool:
    """Name this process "DTMS Desk" for Windows' notifications (before any window is created). The display
    name is registered under HKEY_CURRENT_USER, where Windows looks an AppUserModelID up. False off Windows
    or when Windows refused."""
    if shell32 is None:
        if not is_windows():
            return False
        shell32 = ctypes.WinDLL("shell32")  # type: ignore[attr-defined]
    if registry is None and is_windows():
        import winreg as registry
    if registry is not None:
        try:
            with registry.CreateKey(registry.HKEY_CURRENT_USER, _AUMID_KEY) as key:
                registry.SetValueEx(key, "DisplayName", 0, registry.REG_SZ, APP_DISPLAY_NAME)
        except OSError as error:
            logger.warning("the notification sender's name could not be registered: %s", error)
    result = shell32.SetCurrentProcessExplicitAppUserModelID(ctypes.c_wchar_p(APP_USER_MODEL_ID))
    if result != 0:  # an HRESULT: 0 is S_OK
        logger.warning("SetCurrentProcessExplicitAppUserModelID failed: 0x%08x", result & 0xFFFFFFFF)
        return False
    return True


def install_console_stop(
    loop: asyncio.AbstractEventLoop, stop_event: asyncio.Event, *, kernel32: Any = None
) -> Callable[[], None]:
    """Install the console control handler where there is one; returns what removes it."""
    handler = ConsoleStop(loop, stop_event, kernel32=kernel32)
    if not handler.install():
        return lambda: None
    return handler.remove
