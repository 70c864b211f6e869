"""Failures that must not cost money or availability: a lost order_send answer is checked before anything is
resent, a trade released mid-action gets nothing more, one call's failure does not take the engine down, and
an engine whose terminal cannot start ends FAILED (retryable), never stuck in STARTING."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from app.engine.executor import ActionExecutor
from app.engine.model import ActionKind, ActionOutcome, LifecycleState
from app.engine.registry import Registration
from app.engine.settings import ExecutionSettings
from app.errors import TerminalCallFailed
from app.runtime import Services
from app.terminal.replies import Reply

from .conftest import no_sleep, open_position, open_services, set_price
from .test_protection import R, buy_with_sl, position


async def test_lost_answer_is_checked_before_the_request_is_sent_again(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await ready.gateway.control("inject_fault", kind="ipc_timeout", count=1, function="order_send")
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9)
    records = sorted(
        (a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN), key=lambda a: a.attempt
    )
    assert records[0].outcome is ActionOutcome.RETRYING and "answer lost" in records[0].detail
    assert "was not done" in records[0].detail
    assert records[-1].outcome is ActionOutcome.SUCCESS


async def test_a_trade_no_longer_managed_gets_nothing_more(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    trade = ready.engine.trade(ticket)
    executor = ActionExecutor(
        ready.gateway, ExecutionSettings(), ready.engine.clock.now, sleep=no_sleep, owns=lambda _ticket: False
    )
    result = await executor.set_stops(trade, sl=round(entry - 0.5 * R, 5), tp=0.0, kind=ActionKind.TIGHTEN)
    assert not result.ok and result.outcome is ActionOutcome.NOT_SENT
    assert "no longer manages" in result.records[0].detail
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R), "nothing reached the terminal"


async def test_one_symbols_failing_call_does_not_disconnect_the_engine(ready: Services) -> None:
    gbp = await open_position(ready, "GBPUSD", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=gbp))
    epoch = ready.engine.lifecycle.epoch
    real_ticks = ready.gateway.ticks

    async def failing_ticks(symbols: Sequence[str]) -> dict[str, Reply]:
        replies = await real_ticks(symbols)
        failed = Reply(value=None, error=(-1, "Terminal: Call failed"), raised=None, duration_s=0.0)
        return {symbol: failed if symbol == "GBPUSD" else reply for symbol, reply in replies.items()}

    ready.gateway.ticks = failing_ticks  # type: ignore[method-assign]
    try:
        assert await ready.engine.step() is not None, "the cycle goes on for the other symbols"
        assert ready.engine.state is LifecycleState.READY
        assert ready.engine.lifecycle.epoch == epoch, "no reconnection for one call's failure"
        assert "GBPUSD" in ready.engine.health().symbol_problems
    finally:
        ready.gateway.ticks = real_ticks  # type: ignore[method-assign]
    assert await ready.engine.step() is not None


async def test_terminal_that_cannot_start_ends_failed_and_can_be_retried(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    real_start = services.gateway.start
    failures = [TerminalCallFailed("start", -10003, "worker did not start")]

    async def failing_start() -> None:
        if failures:
            raise failures.pop()
        await real_start()

    services.gateway.start = failing_start  # type: ignore[method-assign]
    try:
        assert not await services.engine.start()
        assert services.engine.state is LifecycleState.FAILED
        assert "could not be started" in services.engine.lifecycle.reason
        assert await services.engine.retry_initialize()
        assert services.engine.state is LifecycleState.READY
    finally:
        await services.close()


async def test_recovery_that_keeps_failing_backs_off_then_fails(ready: Services) -> None:
    import asyncio

    gbp = await open_position(ready, "GBPUSD", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=gbp))
    delays: list[float] = []

    async def failing_positions(since: object):
        if not ready.gateway.connected or ready.engine.state is LifecycleState.READY:
            return await real_positions(since)  # the cycle finds the terminal lost
        raise TerminalCallFailed("positions_get", -1, "Terminal: Call failed")  # and every recovery fails

    async def recording_sleep(delay: float) -> None:
        delays.append(delay)

    ready.engine._sleep = recording_sleep
    real_positions = ready.gateway.position_changes
    await ready.gateway.control("inject_fault", kind="disconnect")
    ready.gateway.position_changes = failing_positions  # type: ignore[method-assign]
    try:
        await ready.engine.step()
        for _ in range(200):
            if ready.engine.state is LifecycleState.FAILED:
                break
            await asyncio.sleep(0.01)
        assert ready.engine.state is LifecycleState.FAILED
        assert "recovery failed 5 times" in ready.engine.lifecycle.reason
        assert delays[:4] == [1.0, 2.0, 4.0, 8.0], "each failed recovery waits longer before the next"
    finally:
        ready.gateway.position_changes = real_positions  # type: ignore[method-assign]


async def test_an_sl_move_is_marked_in_the_database_before_it_is_sent(ready: Services) -> None:
    """If the program dies with the SLTP request in flight, the restart finds the marker and books the SL the
    terminal shows as DTMS's own move, not as a change made outside DTMS."""
    ticket, entry = await buy_with_sl(ready)
    real_send = ready.gateway.order_send
    stored_at_send: list[str | None] = []

    async def observing_send(request: dict):
        stored = await ready.repository.load_trade(ticket)
        stored_at_send.append(stored.pending_action if stored else None)
        return await real_send(request)

    ready.gateway.order_send = observing_send  # type: ignore[method-assign]
    try:
        await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
        await ready.engine.step()
    finally:
        ready.gateway.order_send = real_send  # type: ignore[method-assign]
    assert stored_at_send == ["BREAKEVEN"]
    assert (await ready.repository.load_trade(ticket)).pending_action is None, "cleared once the answer came"
