"""Leaving safely: Quit (menu, tray, or the window's X without a tray) asks while trades are protected and
names how many; the first hide to the tray says DTMS keeps running; restoring keeps a maximised window."""

from __future__ import annotations

import pytest

from app.runtime import Services
from app.views.bridge import EngineBridge

from .conftest import register_buy
from .test_main_window import window


@pytest.mark.qasync
async def test_quit_asks_while_trades_are_protected(ready: Services, bridge: EngineBridge) -> None:
    questions: list[str] = []
    answers = [False, False, True]
    quits: list[int] = []
    w = window(ready, bridge, answers, quits)

    def confirm(_parent: object, question: str) -> bool:
        questions.append(question)
        return answers.pop(0)

    w._confirm = confirm
    w.show()
    await register_buy(ready, "EURUSD")
    await register_buy(ready, "GBPUSD")
    w.close()  # no tray: the X quits, after asking
    assert questions[-1].startswith("2 trades will no longer be protected") and quits == []
    assert w.isVisible(), "answered No: the window stays"
    w.menuBar().actions()[0].menu().actions()[-1].trigger()  # File > Quit, answered No
    assert quits == [] and len(questions) == 2
    w.tray.quit_action.trigger()  # answered Yes
    assert quits == [1] and len(questions) == 3
    ready.engine.pause(True)
    assert w.request_quit() and len(questions) == 3, "nothing protected while paused: no question"
    await w.close_tasks()


@pytest.mark.qasync
async def test_first_hide_to_the_tray_says_dtms_keeps_running(ready: Services, bridge: EngineBridge) -> None:
    quits: list[int] = []
    w = window(ready, bridge, [], quits, tray_available=True)
    await register_buy(ready, "EURUSD")
    w.showMaximized()
    assert w.isMaximized()
    w.close()
    assert not w.isVisible() and quits == []
    hint = w.tray.last_hint
    assert hint is not None
    title, message = hint
    assert title == "DTMS Desk keeps running" and "protects 1 trade" in message and "Quit" in message
    w.tray.last_hint = None
    w.tray.show_action.trigger()
    assert w.isVisible() and w.isMaximized(), "restored as it was: maximised"
    w.close()
    assert w.tray.last_hint is None, "only the first hide explains"
    w.tray.show_action.trigger()
    assert w.isMaximized()
    await w.close_tasks()
