"""A long positions_get answer crosses from the worker as columns and arrives as the very same tuple."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import TradePosition
from app.terminal.transport import InProcessTransport, ProcessTransport
from app.terminal.worker import (
    PACK_MIN_POSITIONS,
    PackedPositions,
    pack_positions,
    unpack_positions,
)

SPEC = TerminalSpec(kind=TerminalKind.SIM, seed=11, speed=0.0, start_time=datetime(2026, 3, 4, 10, tzinfo=UTC))


def position(i: int, **changes: object) -> TradePosition:
    values = dict(
        ticket=1000 + i,
        time=1772618400 + i,
        time_msc=1772618400000 + i,
        time_update=1772618400,
        time_update_msc=1772618400000,
        type=i % 2,
        magic=2**62 + i,
        identifier=1000 + i,
        reason=3,
        volume=0.01 * (i + 1),
        price_open=1.1 + i * 1e-5,
        sl=0.0,
        tp=1.2,
        price_current=1.1001,
        swap=-0.25,
        profit=float(i),
        symbol="EURUSD" if i % 3 else "XAUUSD.m",
        comment=f"c{i}" * (i % 4),
        external_id="",
    )
    values.update(changes)
    return TradePosition(**values)


def test_columns_give_back_equal_positions_with_the_same_types() -> None:
    positions = tuple(position(i) for i in range(PACK_MIN_POSITIONS + 5))
    packed = pickle.loads(pickle.dumps(pack_positions(positions)))
    assert type(packed) is PackedPositions
    back = unpack_positions(packed)
    assert back == positions
    assert all(type(p) is TradePosition for p in back)
    for before, after in zip(positions, back):
        assert [type(v) for v in before] == [type(v) for v in after]


def test_what_columns_cannot_carry_exactly_goes_as_it_is() -> None:
    short = tuple(position(i) for i in range(PACK_MIN_POSITIONS - 1))
    assert pack_positions(short) is short
    many = [position(i) for i in range(PACK_MIN_POSITIONS + 1)]
    for odd in (position(0, swap=0), position(0, magic=2**64 - 1), position(0, comment=None)):
        value = (*many, odd)
        assert pack_positions(value) is value
    assert pack_positions(None) is None


async def test_the_gateway_answers_the_same_from_the_worker_as_in_process() -> None:
    answers = []
    for transport in (InProcessTransport(SPEC), ProcessTransport(SPEC)):
        gateway = Gateway(SPEC, transport=transport)
        await gateway.start()
        try:
            assert await gateway.connect()
            await gateway.control("configure_account", balance=1e8, leverage=500)
            for i in range(PACK_MIN_POSITIONS * 2):
                result = await gateway.control(
                    "open_position",
                    symbol=("EURUSD", "XAUUSD")[i % 2],
                    type="BUY" if i % 3 else "SELL",
                    volume=0.01,
                    comment=f"n{i % 5}",
                )
                assert result["retcode"] == 10009
            answers.append((await gateway.positions(), await gateway.positions(symbol="XAUUSD")))
        finally:
            await gateway.close()
    (local, local_xau), (worker, worker_xau) = answers
    assert len(local) == PACK_MIN_POSITIONS * 2 and worker == local and worker_xau == local_xau
    assert all(type(p) is TradePosition for p in worker)
    assert [[type(v) for v in p] for p in worker] == [[type(v) for v in p] for p in local]
