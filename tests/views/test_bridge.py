"""The bridge turns each engine event into its own Qt signal, plus the catch-all ``event`` signal."""

from __future__ import annotations

import pytest

from app.engine.events import EngineEvent
from app.runtime import Services
from app.views.bridge import EngineBridge

from .conftest import register_buy


class Collect:
    def __init__(self, *signals) -> None:
        self.got: list[tuple[str, object]] = []
        for name, signal in signals:
            signal.connect(lambda value, name=name: self.got.append((name, value)))

    def names(self) -> list[str]:
        return [name for name, _ in self.got]


@pytest.mark.qasync
async def test_engine_events_arrive_as_signals(services: Services, bridge: EngineBridge) -> None:
    seen = Collect(
        ("lifecycle", bridge.lifecycle),
        ("registered", bridge.trade_registered),
        ("updated", bridge.trade_updated),
        ("cycle", bridge.cycle),
        ("paused", bridge.paused),
        ("unregistered", bridge.trade_unregistered),
    )
    events: list[EngineEvent] = []
    bridge.event.connect(events.append)
    assert await services.engine.start()
    states = [p["state"] for name, p in seen.got if name == "lifecycle"]
    assert states == ["STARTING", "CONNECTING", "RECOVERING", "READY"]
    ticket = await register_buy(services)
    await services.engine.step()
    services.engine.pause(True)
    await services.engine.unregister(ticket)
    names = seen.names()
    after = names[names.index("registered") :]
    assert after.index("updated") < after.index("paused") < after.index("unregistered")
    rows = seen.got[names.index("registered") + after.index("updated")][1]
    assert [row["ticket"] for row in rows] == [ticket]
    assert ("paused", True) in seen.got
    assert len(events) == len(seen.got)


@pytest.mark.qasync
async def test_detached_bridge_hears_nothing(services: Services, bridge: EngineBridge) -> None:
    heard: list[EngineEvent] = []
    bridge.event.connect(heard.append)
    bridge.detach()
    assert await services.engine.start()
    assert heard == []
