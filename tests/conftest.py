"""Test configuration shared by every test: headless Qt, and async tests on the right event loop."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import gc
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import settings as hypothesis_settings

# In CI every property test and fuzz run draws the same examples, so a red build always reproduces;
# locally they explore new examples on every run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _qasync_loop() -> asyncio.AbstractEventLoop:
    """The program's own loop: qasync on a QApplication, with a plain default executor."""
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-executor"))
    return loop


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qasync: run this async test on the qasync loop (Qt timers fire)")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    # Qt-facing async tests run on qasync, so Qt timers and signals work as in the program;
    # everything else runs on a plain asyncio loop.
    if item.get_closest_marker("qasync") is not None:
        return {"qasync": _qasync_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def _own_account_locks(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Account locks are machine-wide: each test (and the programs it starts) gets its own place for them,
    so tests running on the same machine never refuse each other."""
    monkeypatch.setenv("DTMS_LOCK_DIR", str(tmp_path_factory.mktemp("account-locks")))


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Qt objects must die on the thread that owns them. Python's collector runs on whichever thread happens
    to trigger it (the database thread, an executor thread), so after every test that touched Qt the garbage
    is collected here, on the main thread, before the next test processes Qt events."""
    yield
    if "PySide6.QtWidgets" in __import__("sys").modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            gc.collect()
