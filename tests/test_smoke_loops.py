"""The test loops themselves: qasync tests see Qt timers fire, plain tests run on asyncio."""

from __future__ import annotations

import asyncio

import pytest


@pytest.mark.qasync
async def test_qt_timer_fires_on_the_qasync_loop() -> None:
    from PySide6.QtCore import QTimer

    fired = asyncio.Event()
    QTimer.singleShot(10, fired.set)
    await asyncio.wait_for(fired.wait(), timeout=2.0)
    assert fired.is_set()


async def test_plain_async_test_runs_on_asyncio() -> None:
    loop = asyncio.get_running_loop()
    assert type(loop).__module__.startswith("asyncio")
