"""The Windows-only stop and identity, run with the Windows calls stood in: a console close, logoff or
shutdown sets the same stop event as the signals and holds Windows off until the program has stopped."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

from app import windows
from app.headless import STOP_SIGNALS


class FakeKernel32:
    """Records SetConsoleCtrlHandler and lets the test call the registered routine as Windows would."""

    def __init__(self) -> None:
        self.routines: list[Any] = []
        self.removed: list[Any] = []

    def SetConsoleCtrlHandler(self, routine: Any, add: bool) -> int:
        (self.routines if add else self.removed).append(routine)
        return 1


async def test_console_close_sets_the_stop_event_and_waits_for_the_stop() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    kernel32 = FakeKernel32()
    handler = windows.ConsoleStop(loop, stop, kernel32=kernel32)
    assert handler.install()
    (routine,) = kernel32.routines
    answers: list[int] = []
    windows_thread = threading.Thread(target=lambda: answers.append(routine(windows.CTRL_CLOSE_EVENT)))
    windows_thread.start()  # Windows calls the routine on a thread of its own
    await asyncio.wait_for(stop.wait(), 2.0)
    await asyncio.sleep(0.05)
    assert windows_thread.is_alive(), "Windows is held off while the program stops"
    handler.stopped.set()  # the orderly stop is done
    await loop.run_in_executor(None, windows_thread.join, 2.0)
    assert answers == [1], "handled: Windows may end the process now"
    handler.remove()
    assert kernel32.removed == kernel32.routines


async def test_logoff_and_shutdown_stop_too_and_ctrl_c_is_left_to_sigint() -> None:
    loop = asyncio.get_running_loop()
    for event in (windows.CTRL_LOGOFF_EVENT, windows.CTRL_SHUTDOWN_EVENT):
        stop = asyncio.Event()
        handler = windows.ConsoleStop(loop, stop, stopped=threading.Event())
        handler.stopped.set()
        assert await loop.run_in_executor(None, handler.handle, event)
        await asyncio.wait_for(stop.wait(), 1.0)
    stop = asyncio.Event()
    handler = windows.ConsoleStop(loop, stop)
    assert not handler.handle(windows.CTRL_C_EVENT) and not handler.handle(windows.CTRL_BREAK_EVENT)
    await asyncio.sleep(0)
    assert not stop.is_set(), "Ctrl+C and Ctrl+Break arrive as SIGINT and SIGBREAK"


def test_the_stop_budget_is_within_what_windows_allows() -> None:
    assert all(0 < seconds < 5.0 for seconds in windows.STOP_BUDGET_S.values())


def test_sigbreak_is_a_stop_signal_where_it_exists() -> None:
    assert signal.SIGINT in STOP_SIGNALS and signal.SIGTERM in STOP_SIGNALS
    if hasattr(signal, "SIGBREAK"):
        assert signal.SIGBREAK in STOP_SIGNALS


def test_without_windows_nothing_is_installed() -> None:
    if windows.is_windows():
        return
    loop = asyncio.new_event_loop()
    try:
        assert not windows.ConsoleStop(loop, asyncio.Event()).install()
        assert not windows.set_app_user_model_id()
    finally:
        loop.close()


class FakeShell32:
    def __init__(self, result: int = 0) -> None:
        self.ids: list[str] = []
        self.result = result

    def SetCurrentProcessExplicitAppUserModelID(self, app_id: Any) -> int:
        self.ids.append(app_id.value)
        return self.result


class FakeRegistry:
    HKEY_CURRENT_USER = "HKCU"
    REG_SZ = 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    def CreateKey(self, root: str, path: str) -> Any:
        return self._Key(f"{root}\\{path}")

    def SetValueEx(self, key: Any, name: str, _reserved: int, _kind: int, value: str) -> None:
        self.values[(key.path, name)] = value


def test_notifications_come_from_dtms_desk() -> None:
    shell32, registry = FakeShell32(), FakeRegistry()
    assert windows.set_app_user_model_id(shell32=shell32, registry=registry)
    assert shell32.ids == [windows.APP_USER_MODEL_ID]
    assert registry.values == {(r"HKCU\Software\Classes\AppUserModelId\DTMS.Desk", "DisplayName"): "DTMS Desk"}
    assert not windows.set_app_user_model_id(shell32=FakeShell32(result=-2147024809), registry=FakeRegistry())
