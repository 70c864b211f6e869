"""Engine lifecycle (DESIGN.md): STARTING -> CONNECTING -> RECOVERING -> READY, FAILED after the attempts,
retry from FAILED, DISCONNECTED and back to READY with a new epoch when the terminal is lost."""

from __future__ import annotations

from pathlib import Path

from app.engine.model import LifecycleState
from app.engine.registry import Registration
from app.errors import EngineNotReady

from .conftest import Recorded, open_services


def states(recorded: Recorded) -> list[str]:
    return [e.payload["state"] for e in recorded.of("lifecycle")]


async def test_start_goes_through_every_state_to_ready(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    recorded = Recorded()
    services.engine.subscribe(recorded)
    try:
        assert await services.engine.start()
        assert states(recorded) == ["STARTING", "CONNECTING", "RECOVERING", "READY"]
        connecting = recorded.of("lifecycle")[1].payload
        assert (connecting["attempt"], connecting["attempts"]) == (1, 3)
        assert services.engine.lifecycle.epoch == 1
        assert all(e.seq is not None for e in recorded.of("lifecycle")), "lifecycle events are persisted"
    finally:
        await services.close()


async def test_fails_after_three_attempts_with_the_reason_then_retries(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    recorded = Recorded()
    services.engine.subscribe(recorded)
    try:
        await services.gateway.start()
        await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
        assert not await services.engine.start()
        assert services.engine.state is LifecycleState.FAILED
        assert "3 attempts" in services.engine.lifecycle.reason
        attempts = [
            e.payload["attempt"]
            for e in recorded.of("lifecycle")
            if e.payload["state"] == "CONNECTING" and e.payload["retry_in"] is None
        ]
        assert attempts == [1, 2, 3]
        delays = [e.payload["retry_in"] for e in recorded.of("lifecycle") if e.payload["retry_in"] is not None]
        assert delays == [1.0, 2.0]
        try:
            await services.engine.register(Registration(ticket=1))
        except EngineNotReady as error:
            assert error.state == "FAILED"
        else:
            raise AssertionError("registration accepted while FAILED")
        assert await services.engine.retry_initialize()
        assert services.engine.state is LifecycleState.READY
    finally:
        await services.close()


async def test_lost_terminal_disconnects_and_comes_back_with_a_new_epoch(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    recorded = Recorded()
    services.engine.subscribe(recorded)
    try:
        assert await services.engine.start()
        epoch = services.engine.lifecycle.epoch
        await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=1)
        assert await services.engine.step() is None, "the cycle finds the terminal lost and reconnects"
        assert services.engine.state is LifecycleState.READY
        assert services.engine.lifecycle.epoch == epoch + 1
        seen = states(recorded)
        assert "DISCONNECTED" in seen
        assert seen[-2:] == ["RECOVERING", "READY"]
    finally:
        await services.close()
