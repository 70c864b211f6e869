"""A worker stuck inside a call (holding its GIL) never stalls the engine's loop, and is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from app.errors import TerminalTimeout, TerminalUnavailable
from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import Tick
from app.terminal.transport import ProcessTransport

SPEC = TerminalSpec(kind=TerminalKind.SIM, seed=11)

Setup = tuple[Gateway, ProcessTransport, list[tuple[bool, str]]]


class LoopLag:
    """Ticks every 10 ms and records the worst lateness of the loop."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.010
            await asyncio.sleep(0.010)
            self.worst = max(self.worst, loop.time() - due)
            self.ticks += 1

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    transport = ProcessTransport(SPEC)
    gateway = Gateway(SPEC, transport=transport, restart_grace=0.5)
    changes: list[tuple[bool, str]] = []
    gateway.add_listener(lambda connected, reason: changes.append((connected, reason)))
    await gateway.start()
    assert await gateway.connect()
    yield gateway, transport, changes
    await gateway.close()


async def test_a_gil_holding_call_past_its_deadline_restarts_the_worker(setup: Setup) -> None:
    gateway, transport, changes = setup
    stuck_pid = transport.pid
    await gateway.control("inject_fault", kind="block", seconds=5.0, function="symbol_info_tick")
    with LoopLag() as lag:
        started = time.perf_counter()
        with pytest.raises(TerminalTimeout):
            await gateway.call("symbol_info_tick", "EURUSD", deadline=2.0)
        waited = time.perf_counter() - started
    assert 2.0 <= waited < 4.0
    assert lag.ticks > 100 and lag.worst < 0.050
    assert not gateway.connected and changes[-1][0] is False and "deadline" in changes[-1][1]
    assert gateway.stats().timeouts == 1

    assert await gateway.connect()
    assert gateway.epoch == 2 and gateway.connected
    assert type(await gateway.tick("EURUSD")) is Tick
    assert transport.pid != stuck_pid and gateway.stats().restarts == 1
    with pytest.raises(ProcessLookupError):
        os.kill(stuck_pid, 0)


async def test_close_never_waits_on_a_stuck_call(setup: Setup) -> None:
    gateway, transport, _ = setup
    await gateway.control("inject_fault", kind="block", seconds=10.0, function="positions_get")
    call = asyncio.ensure_future(gateway.positions())
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    await gateway.close()
    assert time.perf_counter() - started < 3.0
    with pytest.raises(TerminalUnavailable):
        await call
    assert not transport.alive and not gateway.connected


async def test_a_worker_that_dies_is_noticed_and_replaced(setup: Setup) -> None:
    gateway, transport, changes = setup
    os.kill(transport.pid, signal.SIGKILL)
    with pytest.raises(TerminalUnavailable):
        for _ in range(100):  # the reader notices the closed pipe within moments
            await gateway.tick("EURUSD")
            await asyncio.sleep(0.01)
    assert not gateway.connected and changes[-1][0] is False
    assert await gateway.connect()
    assert type(await gateway.tick("EURUSD")) is Tick and gateway.epoch == 2
