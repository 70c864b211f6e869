"""Registrations that do not become trades (404 unknown ticket, 409 contradiction) leave nothing behind: memory
stays flat over 20,000 distinct unknown tickets."""

from __future__ import annotations

import gc
import json
import tracemalloc

import pytest

from app.engine.model import Direction, Trade
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


def test_registrations_that_sent_the_same_values_share_one_sent_dict_and_keep_their_exact_values() -> None:
    first = Registration(ticket=1, symbol="EURUSD", direction=Direction.BUY, magic=7)
    again = Registration(ticket=2, symbol="EURUSD", direction=Direction.BUY, magic=7)
    assert first.sent() is again.sent()
    assert first.sent() == {
        "symbol": "EURUSD", "direction": "BUY", "entry": None, "volume": None, "stop_loss": None,
        "take_profit": None, "magic": 7, "comment": None,
    }  # fmt: skip
    assert Registration(ticket=3, symbol="EURUSD", direction=Direction.SELL, magic=7).sent()["direction"] == "SELL"
    # values equal as Python keys but written differently stay apart
    for one, other in ((1.0, 1), (0.0, -0.0), (1.0, True)):
        a = Registration(ticket=4, entry=one).sent()
        b = Registration(ticket=5, entry=other).sent()
        assert a is not b and json.dumps(a["entry"]) == json.dumps(one) and json.dumps(b["entry"]) == json.dumps(other)


def test_trades_loaded_with_the_same_sent_and_cannot_text_share_one_dict_of_that_value() -> None:
    from app.store.mapping import TRADE_FIELDS, trade_values, trades_from_rows

    made = [
        Trade(ticket=t, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=0.1, sl=1.0, tp=1.2, sent=sent)
        for t, sent in ((1, {"symbol": "EURUSD", "entry": None}), (2, {"symbol": "EURUSD", "entry": None}),
                        (3, {"symbol": "EURUSD", "entry": 1.5}), (4, {}), (5, {}))
    ]  # fmt: skip
    rows = [list(trade_values(trade)) for trade in made]
    for row in rows:  # as SQLite gives them back
        row[TRADE_FIELDS.index("source")] = row[TRADE_FIELDS.index("source")].value
        row[TRADE_FIELDS.index("state")] = row[TRADE_FIELDS.index("state")].value
        row[TRADE_FIELDS.index("direction")] = row[TRADE_FIELDS.index("direction")].value
    loaded = trades_from_rows(rows)
    assert [t.sent for t in loaded] == [t.sent for t in made]
    assert loaded[0].sent is loaded[1].sent and loaded[2].sent is not loaded[0].sent
    assert loaded[3].sent is loaded[4].sent and loaded[3].cannot is loaded[4].cannot == {}


def test_floats_many_trades_hold_alike_are_one_object_and_keep_their_sign() -> None:
    from app.engine.registry import _shared

    volume = _shared(float("0.01"))
    assert _shared(float("0.01")) is volume == 0.01
    zero, negative_zero = _shared(float("0.0")), _shared(float("-0.0"))
    assert zero is _shared(float("0.0")) and negative_zero is _shared(float("-0.0"))
    assert str(zero) == "0.0" and str(negative_zero) == "-0.0"
    assert _shared(2.5) == 2.5 and type(_shared(2.5)) is float


async def test_trades_on_one_symbol_share_its_name_and_their_alike_numbers(ready: Services) -> None:
    tickets = [await open_position(ready, "EURUSD", "BUY", 0.1) for _ in range(2)]
    first, second = [(await ready.engine.register(Registration(ticket=t))).trade for t in tickets]
    assert first.symbol is second.symbol == "EURUSD"
    assert first.volume is second.volume == 0.1 and first.tp is second.tp
