"""Without a window (--headless) the engine's notices still reach the phone, worded as in the window, and
nothing is pushed during the quiet hours."""

from __future__ import annotations

import asyncio
import time

from app.alerts.push import PushSender
from app.alerts.relay import PushRelay, attach_push
from app.config import AlertSettings
from app.runtime import Services
from tests.engine.conftest import ready, services  # noqa: F401
from tests.engine.test_protection import buy_with_sl

from .test_alert_outputs import RecordingSend


async def test_engine_notices_are_pushed_outside_quiet_hours(ready: Services) -> None:  # noqa: F811
    send = RecordingSend()
    settings = AlertSettings(
        push_urls=("ntfy://dtms",), push_min_severity="info", push_interval_s=0.0, quiet_from="22:00", quiet_to="07:00"
    )
    minute = [12 * 60]
    relay = PushRelay(
        ready.engine,
        settings,
        sender=PushSender(settings.push_urls, interval_s=0.0, min_severity="info", send=send),
        minute=lambda: minute[0],
    )
    try:
        ticket, _entry = await buy_with_sl(ready)
        deadline = time.monotonic() + 5
        while not send.calls and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert send.calls and send.calls[0][1] == f"#{ticket} EURUSD BUY: now protected"
        minute[0] = 23 * 60
        pushed = len(send.calls)
        await buy_with_sl(ready)
        await asyncio.sleep(0.1)
        assert len(send.calls) == pushed, "quiet hours: nothing pushed"
    finally:
        relay.close()
    assert attach_push(ready.engine, AlertSettings()) is None, "no URL, no relay"
