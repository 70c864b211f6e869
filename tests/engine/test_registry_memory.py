"""Registrations that do not become trades (404 unknown ticket, 409 contradiction) leave nothing behind: memory
stays flat over 20,000 distinct unknown tickets."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from app.engine.model import Direction
from app.engine.registry import Registration
from app.errors import NoOpenPosition, RegistrationConflict
from app.runtime import Services

from .conftest import open_position

UNKNOWN = 20_000


async def test_unknown_and_conflicting_tickets_leave_no_lock_behind(ready: Services) -> None:
    registry = ready.engine.registry
    ticket = await open_position(ready, "EURUSD", "BUY", 0.1)
    with pytest.raises(RegistrationConflict):
        await ready.engine.register(Registration(ticket=ticket, direction=Direction.SELL))
    with pytest.raises(NoOpenPosition):
        await ready.engine.register(Registration(ticket=ticket + 999))
    assert registry._locks == {}

    async def unknown(first: int, count: int) -> None:
        for n in range(first, first + count):
            with pytest.raises(NoOpenPosition):
                await ready.engine.register(Registration(ticket=900_000_000 + n))

    await unknown(0, 1_000)  # warm up every cache on the way
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        await unknown(1_000, UNKNOWN)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert registry._locks == {}
    # the old per-ticket lock cost ~210 bytes each: 4 MB over 20,000 tickets
    assert after - before < 256 * 1024, f"memory grew by {after - before} bytes over {UNKNOWN} unknown tickets"


async def test_managed_trades_keep_no_lock_once_registered_and_a_held_one_is_kept(ready: Services) -> None:
    registry = ready.engine.registry
    tickets = [await open_position(ready, "EURUSD", "BUY", 0.1) for _ in range(3)]
    for ticket in tickets:
        await ready.engine.register(Registration(ticket=ticket))
    assert registry._locks == {}  # 10,000 managed trades kept 1.3 MB of idle locks
    lock = registry._lock(tickets[0])
    async with lock:  # someone holds it: a registration meanwhile waits on the same lock, not on a new one
        assert registry._lock(tickets[0]) is lock
    registry._drop_idle_lock(tickets[0], lock)
    assert registry._locks == {}
