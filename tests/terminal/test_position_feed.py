"""Open positions read as changes: the book the fast cycle keeps always equals a full ``positions_get``, whole
positions cross only when new or changed, and a lost answer (or a new worker) gives a full one."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.engine.position_book import PositionBook
from app.terminal.gateway import Gateway
from app.terminal.position_feed import PositionFeed
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import TradePosition
from app.terminal.transport import InProcessTransport, ProcessTransport

SPEC = TerminalSpec(kind=TerminalKind.SIM, seed=5, speed=0.0, start_time=datetime(2026, 3, 4, 10, tzinfo=UTC))
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")


@pytest.fixture(params=["in_process", "process"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    transport = InProcessTransport(SPEC) if request.param == "in_process" else ProcessTransport(SPEC)
    gateway = Gateway(SPEC, transport=transport)
    await gateway.start()
    assert await gateway.connect()
    yield gateway
    await gateway.close()


async def open_some(gateway: Gateway, count: int, rng: random.Random) -> None:
    for _ in range(count):
        result = await gateway.control(
            "open_position", symbol=rng.choice(SYMBOLS), type=rng.choice(("BUY", "SELL")), volume=0.1
        )
        assert result["retcode"] == 10009


async def read(gateway: Gateway, book: PositionBook) -> None:
    book.apply(await gateway.position_changes(book.cursor))


async def test_the_book_equals_positions_get_through_opens_changes_and_closes(gateway: Gateway) -> None:
    rng = random.Random(3)
    book = PositionBook()
    await open_some(gateway, 12, rng)
    await read(gateway, book)
    assert book.full and len(book.changed) == 12
    for _ in range(25):
        tickets = [int(p.ticket) for p in await gateway.positions()]
        step = rng.choice(("advance", "open", "close", "modify", "partial"))
        if step == "advance":
            await gateway.control("advance", seconds=rng.choice((1.0, 30.0)))
        elif step == "open":
            await open_some(gateway, rng.randint(1, 3), rng)
        elif step == "close" and tickets:
            await gateway.control("close_position", ticket=rng.choice(tickets))
        elif step == "partial" and tickets:
            await gateway.control("close_position", ticket=rng.choice(tickets), volume=0.05)
        elif step == "modify" and tickets:
            ticket = rng.choice(tickets)
            (position,) = await gateway.positions(ticket=ticket)
            await gateway.control("modify_position", ticket=ticket, tp=round(float(position.price_open) * 1.05, 3))
        before = set(book)
        await read(gateway, book)
        truth = {int(p.ticket): p for p in await gateway.positions()}
        assert dict(book.items()) == truth, f"after {step}"
        assert all(type(p) is TradePosition for p in book.values())
        assert book.removed == before - truth.keys()
        assert not book.full
        assert book.floating() == pytest.approx(sum(p.profit + p.swap for p in truth.values()))


async def test_only_new_or_changed_positions_cross_whole(gateway: Gateway) -> None:
    book = PositionBook()
    await open_some(gateway, 5, random.Random(1))
    await read(gateway, book)
    await gateway.control("advance", seconds=60.0)
    changes = await gateway.position_changes(book.cursor)
    assert changes.changed == () and not changes.full, "prices moved, nothing else did"
    book.apply(changes)
    ticket = next(iter(book))
    await gateway.control("modify_position", ticket=ticket, tp=round(float(book[ticket].price_open) * 1.05, 3))
    changes = await gateway.position_changes(book.cursor)
    assert [int(p.ticket) for p in changes.changed] == [ticket]


async def test_an_answer_the_book_did_not_apply_is_followed_by_a_full_one(gateway: Gateway) -> None:
    book = PositionBook()
    await open_some(gateway, 4, random.Random(2))
    await read(gateway, book)
    lost = await gateway.position_changes(book.cursor)  # answered, never applied (its reply was lost)
    assert not lost.full
    changes = await gateway.position_changes(book.cursor)
    assert changes.full and len(changes.changed) == 4


async def test_a_new_worker_never_continues_an_old_cursor(gateway: Gateway) -> None:
    book = PositionBook()
    await open_some(gateway, 3, random.Random(4))
    await read(gateway, book)
    assert PositionFeed().changes((), book.cursor).full
