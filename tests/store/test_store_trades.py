"""Trades in and out of the database: every field survives, inserts are idempotent, loads filter right."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.model import DefensiveState, Direction, Trade, TradeSource
from app.store import Repository

MakeTrade = Callable[..., Trade]
WriteLock = Callable[[], AbstractContextManager[None]]


def every_field_set(ticket: int) -> Trade:
    """A trade where no field has its default value."""
    return Trade(
        ticket=ticket,
        symbol="XAUUSD.pro",
        direction=Direction.SELL,
        entry=2350.55,
        volume=0.37,
        sl=2361.0,
        tp=2320.25,
        magic=2**40 + 7,
        comment="bot: breakout #3",
        opened_at=1_700_000_000.25,
        sent={"symbol": "xauusd", "direction": "sell", "entry": None, "volume": 0.37, "nested": {"a": [1, 2.5, "x"]}},
        managed_by="bot",
        strategy_type="breakout",
        source=TradeSource.ADOPTED,
        registered_at=1_700_000_001.5,
        initial_sl=2362.0,
        initial_volume=0.5,
        r=11.45,
        synthetic_r=True,
        breakeven_triggered=True,
        partial_taken=True,
        best_price=2330.1,
        last_sl_change_at=1_700_000_100.0,
        state=DefensiveState.WARNING_L2,
        state_since=1_700_000_200.0,
        score=-3.75,
        score_explanation="momentum -2, structure -1.75",
        warnings=4,
        last_warning_at=1_700_000_190.0,
        flat_timer_until=1_700_000_500.0,
        recovery_timer_until=1_700_000_600.0,
        hedge_ticket=2**62 + 1,
        closed_volume=0.13,
        pending_action="HEDGE",
        last_evaluated_at=1_700_000_210.0,
        last_deep_check_at=1_700_000_205.0,
        last_forced_check_at=1_700_000_207.0,
        last_action="PARTIAL_CLOSE",
        last_action_at=1_700_000_150.0,
        dtms_paused=True,
        active=False,
        closed_at=1_700_000_700.0,
        close_price=2331.0,
        close_profit=712.5,
        close_reason="stop loss",
        cannot={"WARNING_L2:PARTIAL_CLOSE": "0.005 is below the minimum 0.01"},
        r_basis="1.5 x ATR (M15)",
    )


async def test_every_field_round_trips(repo: Repository, make_trade: MakeTrade) -> None:
    full = every_field_set(1)
    defaults = make_trade(2)
    for field in dataclasses.fields(Trade):
        assert getattr(full, field.name) != getattr(defaults, field.name), field.name
    await repo.save_trades([full, defaults])

    assert await repo.load_trade(1) == full
    assert await repo.load_trade(2) == defaults
    loaded = await repo.load_trade(1)
    assert loaded is not None
    assert type(loaded.direction) is Direction and type(loaded.state) is DefensiveState
    assert type(loaded.source) is TradeSource and type(loaded.synthetic_r) is bool


async def test_every_enum_value_round_trips(repo: Repository, make_trade: MakeTrade) -> None:
    trades = [
        make_trade(n, direction=direction, state=state, source=source)
        for n, (direction, state, source) in enumerate(
            ((d, s, src) for d in Direction for s in DefensiveState for src in TradeSource), start=1
        )
    ]
    await repo.save_trades(trades)
    for trade in trades:
        assert await repo.load_trade(trade.ticket) == trade


async def test_values_survive_reopening(db_path: Path) -> None:
    repository = await Repository.open(db_path)
    await repository.save_trade(every_field_set(9))
    await repository.close()
    reopened = await Repository.open(db_path)
    try:
        assert await reopened.load_trade(9) == every_field_set(9)
        assert reopened.recovered_from is None
    finally:
        await reopened.close()


async def test_unknown_ticket_loads_as_none(repo: Repository) -> None:
    assert await repo.load_trade(404) is None


async def test_numpy_scalars_in_sent_are_stored_as_numbers(repo: Repository, make_trade: MakeTrade) -> None:
    await repo.save_trade(make_trade(3, sent={"price": np.float32(1.5), "volume": np.int64(2)}))
    loaded = await repo.load_trade(3)
    assert loaded is not None and loaded.sent == {"price": 1.5, "volume": 2}


_floats = st.floats(allow_nan=False, allow_infinity=True)
_times = st.none() | _floats
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_json = st.recursive(
    st.none() | st.booleans() | _int64 | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_trades = st.builds(
    Trade,
    ticket=st.integers(min_value=1, max_value=2**63 - 1),
    symbol=_text,
    direction=st.sampled_from(Direction),
    entry=_floats,
    volume=_floats,
    sl=_floats,
    tp=_floats,
    magic=_int64,
    comment=_text,
    opened_at=_floats,
    sent=st.dictionaries(_text, _json, max_size=4),
    managed_by=_text,
    strategy_type=st.none() | _text,
    source=st.sampled_from(TradeSource),
    registered_at=_floats,
    initial_sl=_floats,
    initial_volume=_floats,
    r=_floats,
    synthetic_r=st.booleans(),
    breakeven_triggered=st.booleans(),
    partial_taken=st.booleans(),
    best_price=_times,
    last_sl_change_at=_times,
    state=st.sampled_from(DefensiveState),
    state_since=_floats,
    score=_floats,
    score_explanation=_text,
    warnings=st.integers(min_value=0, max_value=2**31),
    last_warning_at=_times,
    flat_timer_until=_times,
    recovery_timer_until=_times,
    hedge_ticket=st.none() | st.integers(min_value=1, max_value=2**63 - 1),
    closed_volume=_floats,
    pending_action=st.none() | _text,
    last_evaluated_at=_times,
    last_deep_check_at=_times,
    last_forced_check_at=_times,
    last_action=st.none() | _text,
    dtms_paused=st.booleans(),
    last_action_at=_times,
    active=st.booleans(),
    closed_at=_times,
    close_price=_times,
    close_profit=_times,
    close_reason=st.none() | _text,
    r_basis=_text,
    cannot=st.dictionaries(_text, _text, max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade=_trades)
def test_any_trade_round_trips(tmp_path: Path, trade: Trade) -> None:
    async def scenario() -> Trade | None:
        repository = await Repository.open(tmp_path / "hypothesis.db")
        try:
            await repository.save_trade(trade)
            return await repository.load_trade(trade.ticket)
        finally:
            await repository.close()

    assert asyncio.run(scenario()) == trade


async def test_concurrent_inserts_of_one_ticket_store_it_once(repo: Repository, make_trade: MakeTrade) -> None:
    results = await asyncio.gather(*(repo.insert_trade_if_absent(make_trade(77, volume=n)) for n in range(100)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await repo.load_active_trades() == [make_trade(77, volume=winner)]


async def test_insert_if_absent_keeps_the_stored_trade(repo: Repository, make_trade: MakeTrade) -> None:
    assert await repo.insert_trade_if_absent(make_trade(5, comment="first")) is True
    assert await repo.insert_trade_if_absent(make_trade(5, comment="second")) is False
    stored = await repo.load_trade(5)
    assert stored is not None and stored.comment == "first"


async def test_save_trade_replaces_every_field(repo: Repository, make_trade: MakeTrade) -> None:
    await repo.save_trade(every_field_set(6))
    await repo.save_trade(make_trade(6))
    assert await repo.load_trade(6) == make_trade(6)


async def test_save_trades_in_bulk_inserts_and_updates(repo: Repository, make_trade: MakeTrade) -> None:
    await repo.save_trades(make_trade(n, volume=0.01) for n in range(1, 3001))
    await repo.save_trades(make_trade(n, volume=0.02) for n in range(2001, 4001))
    active = await repo.load_active_trades()
    assert [t.ticket for t in active] == list(range(1, 4001))
    assert {t.volume for t in active[:2000]} == {0.01}
    assert {t.volume for t in active[2000:]} == {0.02}


async def test_the_value_at_call_time_is_what_is_stored(
    repo: Repository, make_trade: MakeTrade, write_lock: WriteLock
) -> None:
    trade = make_trade(8, sent={"volume": 0.1})
    with write_lock():
        blocked = asyncio.ensure_future(repo.save_trade(make_trade(1)))
        await asyncio.sleep(0)  # that write now waits for the lock on the database thread
        saving = asyncio.ensure_future(repo.save_trade(trade))
        await asyncio.sleep(0)  # queued behind it
        trade.state = DefensiveState.CLOSED
        trade.sent["volume"] = 9.0
    await asyncio.gather(blocked, saving)
    stored = await repo.load_trade(8)
    assert stored is not None
    assert stored.state is DefensiveState.HEALTHY and stored.sent == {"volume": 0.1}


async def test_active_and_closed_since_filter_and_order(repo: Repository, make_trade: MakeTrade) -> None:
    await repo.save_trades(
        [
            make_trade(30),
            make_trade(10),
            make_trade(20, active=False, closed_at=500.0),
            make_trade(40, active=False, closed_at=300.0),
            make_trade(50, active=False, closed_at=100.0),
        ]
    )
    assert [t.ticket for t in await repo.load_active_trades()] == [10, 30]
    assert [t.ticket for t in await repo.load_closed_since(300.0)] == [40, 20]
    assert await repo.load_closed_since(math.inf) == []


async def test_thousands_of_trades_load_whole_and_in_ticket_order(repo: Repository, make_trade: MakeTrade) -> None:
    """Read back a few thousand raw rows at a time: every trade once, in ticket order, as saved."""
    saved = [
        make_trade(
            100_000 - 7 * i,
            state=list(DefensiveState)[i % len(DefensiveState)],
            sent={"i": i},
            score=i / 3,
            r_basis=("", "1.5 x ATR (M15)", "0.5% of entry")[i % 3],
        )
        for i in range(4_500)
    ]
    await repo.save_trades(saved)
    loaded = await repo.load_active_trades()
    assert loaded == sorted(saved, key=lambda trade: trade.ticket)
    assert len({id(trade.r_basis) for trade in loaded}) == 3, "each basis held once, not once per trade"


def test_row_values_reach_sqlite_as_the_columns_db_value_makes_them() -> None:
    import numpy as np

    from app.engine.model import DefensiveState, Direction, TradeSource
    from app.store import mapping

    trade = Trade(
        ticket=np.int64(7),
        symbol="EURUSD",
        direction=Direction.SELL,
        entry=np.float64(1.1),
        volume=1,  # an int where a float is kept
        sl=1.2,
        tp=0.0,
        r=np.float32(0.01),
        score=None,
        state=DefensiveState.WARNING_L1,
        source=TradeSource.ADOPTED,
        partial_taken=np.bool_(True),
        sent={"symbol": "EURUSD"},
    )
    values = mapping.trade_values(trade)
    expected = tuple(column.db_value(value) for column, value in zip(mapping.TRADE_COLUMNS, values, strict=True))
    got = mapping.trade_db_values(values)
    assert got == expected
    assert {type(v) for v in got} <= {type(None), int, float, str, bool}, "a numpy value reached SQLite"


def test_rows_of_different_shapes_reach_sqlite_as_the_columns_db_value_makes_them(make_trade: MakeTrade) -> None:
    """The conversions are worked out once per shape of row (which columns hold None, an enum, a numpy value):
    rows of one shape after another of another still convert each value as its column would."""
    from app.store import mapping

    trades = [
        make_trade(1, state=DefensiveState.HEDGED, source=TradeSource.ADOPTED),
        make_trade(2, score=None, close_price=None),
        make_trade(3, score=np.float64(-2.5), state=DefensiveState.WARNING_L2, volume=np.float32(0.5)),
        make_trade(4, state=DefensiveState.CLOSED, direction=Direction.SELL),
        make_trade(5, state=DefensiveState.HEDGED, source=TradeSource.ADOPTED),
    ]
    for trade in trades + trades:
        values = mapping.trade_values(trade)
        expected = tuple(column.db_value(v) for column, v in zip(mapping.TRADE_COLUMNS, values, strict=True))
        got = mapping.trade_db_values(values)
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]
