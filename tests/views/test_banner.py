"""The banner follows the real engine through every lifecycle state; Retry re-initialises after FAILED."""

from __future__ import annotations

import asyncio

import pytest

from app.engine.model import LifecycleState
from app.runtime import Services
from app.views.banner import LifecycleBanner, describe
from app.views.bridge import EngineBridge


def record(banner: LifecycleBanner, bridge: EngineBridge) -> list[tuple[str, str, bool]]:
    seen: list[tuple[str, str, bool]] = []
    bridge.lifecycle.connect(
        lambda _p: seen.append((banner.state.value, banner.text(), banner.retry.isVisibleTo(banner)))
    )
    return seen


@pytest.mark.qasync
async def test_banner_through_failure_retry_and_reconnection(services: Services, bridge: EngineBridge) -> None:
    banner = LifecycleBanner(bridge, simulated=True)
    assert banner.state is LifecycleState.STARTING and banner.simulator.isVisibleTo(banner)
    seen = record(banner, bridge)
    await services.gateway.start()
    await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
    assert not await services.engine.start()
    texts = [text for _, text, _ in seen]
    assert "CONNECTING to the terminal (attempt 1 of 3)" in texts
    assert any(t.startswith("CONNECTING to the terminal (attempt 1 of 3); next attempt in 1 s") for t in texts)
    assert any(t.startswith("CONNECTING to the terminal (attempt 3 of 3)") for t in texts)
    state, text, retry_visible = seen[-1]
    assert state == "FAILED" and text.startswith("FAILED: could not connect after 3 attempts") and retry_visible

    seen.clear()
    banner.retry.click()
    assert not banner.retry.isEnabled()
    for _ in range(200):
        if banner.state is LifecycleState.READY:
            break
        await asyncio.sleep(0.01)
    states = [s for s, _, _ in seen]
    assert states[-2:] == ["RECOVERING", "READY"]
    assert banner.text().startswith("READY") and not banner.retry.isVisibleTo(banner)

    seen.clear()
    await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=1)
    assert await services.engine.step() is None
    disconnected = [text for state, text, _ in seen if state == "DISCONNECTED"]
    assert disconnected and disconnected[0].startswith("DISCONNECTED: terminal lost")
    assert any("reconnecting in" in t for t in disconnected)
    assert banner.state is LifecycleState.READY and "connection 2" in banner.text()
    await services.engine.stop()
    assert banner.text() == "STOPPED" and banner.retry.isVisibleTo(banner)
    await banner.close_tasks()


def test_descriptions_name_attempts_countdown_and_reason() -> None:
    assert describe({"state": "DISCONNECTED", "retry_in": 4.0, "reason": "IPC timeout"}, retry_left=2.2) == (
        "DISCONNECTED: terminal lost; reconnecting in 2 s - IPC timeout"
    )
    assert describe({"state": "RECOVERING"}).startswith("RECOVERING")
    assert describe({"state": "FAILED", "reason": "bad login"}) == "FAILED: bad login"


def test_simulator_tag_hidden_on_a_real_terminal(qapp, bridge: EngineBridge) -> None:
    assert not LifecycleBanner(bridge, simulated=False).simulator.isVisibleTo(None)


def test_the_banner_and_tray_say_not_answering_and_degraded() -> None:
    from types import SimpleNamespace

    from app.views.tray import trouble_lines

    health = SimpleNamespace(terminal_stall_s=2.4, database_problem="disk full: database or disk is full")
    assert trouble_lines(health) == [
        "terminal not answering (2 s)",
        "database degraded: disk full: database or disk is full",
    ]
    assert trouble_lines(SimpleNamespace(terminal_stall_s=None, database_problem="")) == []
