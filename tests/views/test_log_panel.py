"""The event log panel receives log records through its logging handler: the engine's own records on the
root logger, records from other threads (queued to the GUI thread), only from INFO up, and none once
detached."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.log_panel import EventLogPanel

from .conftest import until


def record_lines(panel: EventLogPanel) -> list[str]:
    """The lines that came from log records (engine events are written as ``... event <kind>: ...``)."""
    return [line for line in panel.toPlainText().splitlines() if " event " not in line]


@pytest.mark.qasync
async def test_log_records_reach_the_panel_end_to_end(
    services: Services, bridge: EngineBridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    panel = EventLogPanel(bridge)
    panel.attach()
    try:
        assert await services.engine.start()
        lines = record_lines(panel)
        assert any(" INFO app.engine.engine: engine READY" in line for line in lines), lines

        worker = threading.Thread(
            target=lambda: logging.getLogger("app.store.repository").warning("database thread says %s", "hello"),
            name="db",
        )
        worker.start()
        worker.join()
        assert not any("database thread says" in line for line in record_lines(panel)), "queued, not direct"
        await until(lambda: any("database thread says hello" in line for line in record_lines(panel)))
        assert any(" WARNING app.store.repository: database thread says hello" in line for line in record_lines(panel))

        logging.getLogger("app.engine.cycle").debug("too detailed for the panel")
        await asyncio.sleep(0.02)
        assert not any("too detailed" in line for line in panel.toPlainText().splitlines())
    finally:
        panel.detach()
    logging.getLogger("app.engine").error("after detach")
    await asyncio.sleep(0.02)
    assert "after detach" not in panel.toPlainText()


@pytest.mark.qasync
async def test_a_burst_of_events_is_shown_in_one_append(ready: Services, bridge: EngineBridge) -> None:
    """A thousand trades closing in one cycle: the text is laid out once, with every line, in order."""
    from app.engine.events import EngineEvent, EventKind

    panel = EventLogPanel(bridge)
    appends: list[str] = []
    original = panel.appendPlainText

    def append(text: str) -> None:
        appends.append(text)
        original(text)

    panel.appendPlainText = append  # type: ignore[method-assign]
    for ticket in range(300):
        bridge.event.emit(EngineEvent(kind=EventKind.TRADE_CLOSED, payload={"ticket": ticket}))
    await until(lambda: bool(appends))
    assert len(appends) == 1
    lines = panel.toPlainText().splitlines()[-300:]
    assert [line.split("ticket=")[1] for line in lines] == [str(t) for t in range(300)]


def test_an_events_figures_are_written_without_float_noise(bridge: EngineBridge) -> None:
    from app.engine.events import EngineEvent, EventKind

    panel = EventLogPanel(bridge)
    payload = {"ticket": 7, "r": 1.5500000000000005, "sl_new": 1.0905, "price": 89376.12345, "profit": -0.0}
    panel.on_event(EngineEvent(kind=EventKind.ACTION, payload=payload))
    panel.flush()
    (line,) = panel.toPlainText().splitlines()
    assert line.endswith("ticket=7, r=1.55, sl_new=1.0905, price=89376.12345, profit=0"), line
