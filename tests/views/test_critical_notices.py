"""Critical notices never rely on the tray alone (Windows drops tray messages under Focus Assist): a rail
that blocks sending shows in the window's strip too, and stays there; the tray icon is drawn at each size."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.notifications import Notifier, Severity
from app.views.tray import ICON_SIZES, NotificationStrip, TrayController, draw_icon

from .conftest import register_buy


@pytest.mark.qasync
async def test_algo_trading_off_reaches_the_strip_even_with_a_tray(ready: Services, bridge: EngineBridge) -> None:
    notifier = Notifier(bridge, interval_s=0.0)
    strip = NotificationStrip()
    tray = TrayController(
        bridge, notifier, show_window=lambda: None, quit_program=lambda: None, strip=strip, tray_available=True
    )
    assert tray.has_tray
    await register_buy(ready)
    assert not strip.isVisibleTo(None), "an ordinary notice goes to the tray only"
    await ready.gateway.control("inject_fault", kind="algo_trading_off")
    await ready.engine.step()
    critical = [n for n in notifier.history if n.severity is Severity.CRITICAL]
    assert critical and "press the Algo Trading button" in critical[-1].message
    assert strip.isVisibleTo(None) and "Algo Trading is off" in strip.label.text()
    assert not strip._timer.isActive(), "a critical notice stays until the trader closes it"
    tray.hide()


def test_the_tray_icon_is_drawn_at_every_size() -> None:
    icon = draw_icon("#2c7fb8")
    assert sorted(s.width() for s in icon.availableSizes()) == sorted(ICON_SIZES)
    assert icon.pixmap(QSize(16, 16)).width() == 16
