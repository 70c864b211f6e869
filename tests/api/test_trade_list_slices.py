"""The full trade list hands the event loop back by a time budget, on its first build as on later ones, and the
answer is the same bytes however often it did."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import numpy as np

from app.api import schemas, trade_list, views
from app.api.trade_list import TradeQuery, TradeRows, build_page
from app.engine.model import DefensiveState, Direction, Trade

QUOTE = (1.1, 1.1002)


def trades(count: int) -> dict[int, Trade]:
    made = {}
    for i in range(count):
        ticket = 500_000 + 3 * i
        made[ticket] = Trade(
            ticket=ticket,
            symbol=("EURUSD", "XAUUSD")[i % 2],
            direction=Direction.BUY if i % 3 else Direction.SELL,
            entry=1.1 + i * 1e-5,
            volume=0.01,
            sl=1.09,
            tp=1.12,
            r=0.01,
            state=DefensiveState.WARNING_L1 if i % 7 == 0 else DefensiveState.HEALTHY,
            score=i / 10,
        )
    return made


def stepping_clock(step: float) -> Callable[[], float]:
    """A clock that moves ``step`` seconds each time it is read."""
    now = [0.0]

    def read() -> float:
        now[0] += step
        return now[0]

    return read


async def build_counting_turns(
    rows: TradeRows, book: dict[int, Trade], query: TradeQuery, clock: Callable[[], float]
) -> tuple[bytes, int]:
    """The answer, and how many times another task ran while it was built."""
    turns = 0
    done = False

    async def other_task() -> None:
        nonlocal turns
        while not done:
            await asyncio.sleep(0)
            turns += 1

    ticker = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    turns = 0
    try:
        answer = await build_page(rows, sorted(book), book.get, lambda _t: QUOTE, query, clock=clock)
    finally:
        done = True
        await ticker
    return answer, turns


async def test_the_first_build_and_the_kept_rows_hand_the_loop_back_by_the_clock() -> None:
    book = trades(1_200)
    rows = TradeRows()
    # each clock read (every _CHECK_EVERY tickets) counts as a millisecond: the slice runs out every few reads
    step = trade_list.SLICE_S / 2
    first, turns_first = await build_counting_turns(rows, book, TradeQuery(), stepping_clock(step))
    assert rows.rendered == len(book)  # every row was rendered in this build
    least = len(book) // (trade_list._CHECK_EVERY * 4)
    assert turns_first >= least
    again, turns_again = await build_counting_turns(rows, book, TradeQuery(), stepping_clock(step))
    assert rows.rendered == len(book) and turns_again >= least
    assert again == first

    # a clock that never moves: never handed back, the same answer
    fewer = dict(list(book.items())[:999])
    sliced, turns_sliced = await build_counting_turns(TradeRows(), fewer, TradeQuery(), stepping_clock(step))
    still, turns_still = await build_counting_turns(TradeRows(), fewer, TradeQuery(), lambda: 0.0)
    assert turns_sliced > 1 and turns_still <= 1  # not handed back while it builds
    assert still == sliced
    assert json.loads(still)["trades"] == json.loads(first)["trades"][: len(fewer)]


async def test_the_answer_is_every_trade_as_the_schemas_say() -> None:
    book = trades(1005)
    answer = json.loads(await build_page(TradeRows(), sorted(book), book.get, lambda _t: QUOTE, TradeQuery()))
    expected = schemas.TradesResponse(
        trades=[views.trade_info(book[ticket], QUOTE) for ticket in sorted(book)], count=len(book)
    ).model_dump(mode="json", exclude={"total", "next_cursor"})
    assert {k: v for k, v in answer.items() if k not in ("total", "next_cursor")} == expected
    assert answer["total"] == len(book) and answer["next_cursor"] is None
    small = dict(list(book.items())[:3])
    page = json.loads(await build_page(TradeRows(), sorted(small), small.get, lambda _t: QUOTE, TradeQuery()))
    assert page["trades"] == expected["trades"][:3]


async def test_profit_r_is_written_as_the_json_encoder_writes_it() -> None:
    (trade,) = trades(1).values()
    rows = TradeRows()
    for bid in (1.1, np.float64(1.1003), 1.0999999999999, 1.2345678912345):
        value = views._profit_r(trade, (bid, 1.1002))
        assert value is not None
        row = rows.row(trade, (bid, 1.1002))
        assert f'"profit_r":{json.dumps(float(value))}'.encode() in row
        assert json.loads(row)["profit_r"] == value
